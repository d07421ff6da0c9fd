"""Push challenges after they are sent (methods/push.py sends them): the app's answer, and
the status the browser polls at login."""
import hmac

from chalicelib import observability, store
from chalicelib.clock import is_id, now_s, random_id
from chalicelib.config import get_settings
from chalicelib.ledger.change import Change
from chalicelib.methods import push as push_method
from chalicelib.records import Client, Owner, OwnerKind, PushStatus
from chalicelib.services import challenges, login_attempts

# The reason and the kept answer of a push request the browser withdrew.
CANCELLED = "cancelled"


def login_status(login_id: str, browser: str | None) -> dict:
    """The login attempt's push status, for the browser that started it."""
    attempt = login_attempts.owned(login_id, browser)
    if login_attempts.is_over(attempt):
        return {"status": PushStatus.EXPIRED, "challenge_id": attempt.get("push_challenge_id"),
                "expires_at": attempt.get("push_answer_by"), "reason": attempt.get("ended_by")}
    if attempt.get("push_challenge_id") is None:
        return {"status": PushStatus.PENDING, "challenge_id": None, "expires_at": None}
    return push_method.status_of(attempt)


def withdraw_at_login(login_id: str, browser: str | None, challenge_id: str, client: Client) -> None:
    """Withdraw the push request of this browser's live login attempt."""
    withdraw(challenges.login_owner(login_id, browser), challenge_id, client)


def withdraw_at_step_up(session: dict, challenge_id: str, client: Client) -> None:
    """Withdraw the push request this session sent to step up."""
    withdraw(challenges.session_owner(session), challenge_id, client)


def withdraw(owner: Owner, challenge_id: str, client: Client) -> None:
    """The browser withdraws the owner's current push request ("Cancel"): it is closed as
    denied with reason `cancelled`, so the app no longer lists it and cannot approve it, and
    it no longer counts among the account's unanswered ones. Withdrawing it again is
    answered the same; one the phone already answered is 409 already_decided."""
    slot = owner.item
    if not is_id(challenge_id) or slot.get("push_challenge_id") != challenge_id:
        raise push_method.challenge_not_found()
    device_id = slot["push_device_id"]
    challenge = store.get_challenge(device_id, challenge_id)
    if challenge is None or (challenge["owner_kind"], challenge["owner_id"]) != (owner.kind, owner.id):
        raise push_method.challenge_not_found()
    if challenge["status"] != PushStatus.PENDING:
        if challenge.get("answer") == CANCELLED:
            return
        raise push_method.already_decided()
    n = now_s()
    try:
        Change(owner.account_id, owner.email, client).add(
            store.op_decide_challenge(device_id, challenge_id, PushStatus.DENIED, n, CANCELLED, CANCELLED),
            store.op_forget_push_pending(owner.account_id, challenge_id, random_id(), n),
            store.op_set_on_owner_if(owner.kind, owner.id, {"push_status": PushStatus.DENIED, "push_reason": CANCELLED},
                                     requires=(("push_challenge_id", challenge_id),)),
        ).audit("push_cancelled", method_id=challenge["method_id"], challenge_id=challenge_id).commit()
    except store.ConditionFailed as failed:
        if failed.failed(0):   # the phone answered, or it expired, meanwhile
            answered = store.get_challenge(device_id, challenge_id)
            if answered is not None and answered.get("answer") == CANCELLED:
                return
            if answered is not None and answered["status"] != PushStatus.PENDING:
                raise push_method.already_decided() from None
            raise push_method.push_expired_on_device() from None
        raise push_method.challenge_not_found() from None   # the owner sent a newer push meanwhile


def _answer(decision: str, number: int | None, fraud: bool) -> str:
    """The answer as the challenge keeps it: the same answer sent again is a retry."""
    if fraud:
        return "fraud"
    if decision == "approve":
        return "approve:" + ("" if number is None else f"{number:02d}")
    return decision


def _outcome(challenge: dict, decision: str, number: int | None, fraud: bool) -> tuple[str, str | None]:
    """(status, reason): only the number the browser shows, typed in the app, approves."""
    if fraud:
        return PushStatus.DENIED, "fraud_report"
    if decision != "approve":
        return PushStatus.DENIED, "denied"
    right = number is not None and hmac.compare_digest(f"{number:02d}", f"{int(challenge['number']):02d}")
    return (PushStatus.APPROVED, None) if right else (PushStatus.DENIED, "wrong_number")


def _answered(challenge: dict, answer: str) -> dict:
    """An answered challenge: the same answer again (a retry whose reply was lost) gets the
    same outcome; any other answer is 409 already_decided."""
    if not hmac.compare_digest(challenge.get("answer") or "", answer):
        raise push_method.already_decided()
    status = PushStatus.APPROVED if challenge["status"] == PushStatus.USED else challenge["status"]
    return {"status": status, "reason": challenge.get("reason") or None}


def _tell_owner(challenge: dict, status: str, reason: str | None) -> dict:
    """Record the device's answer where the browser reads it, if that challenge is still the
    owner's current one. A fraud report ends the login attempt or the session, whichever
    challenge is current."""
    kind, owner_id = challenge["owner_kind"], challenge["owner_id"]
    if reason == "fraud_report" and kind == OwnerKind.SESSION:
        return store.op_end_session(owner_id)
    if reason == "fraud_report":
        return store.op_end_login_attempt(owner_id, {"push_status": status, "push_reason": reason,
                                                     "ended_by": reason})
    return store.op_set_on_owner_if(kind, owner_id, {"push_status": status, "push_reason": reason},
                                    requires=(("push_challenge_id", challenge["challenge_id"]),))


def _notice_context(device: dict, challenge: dict) -> dict:
    """What a notice says of the push request: the app, and where the request came from."""
    context = challenge["context"]
    return {"device_name": device["device_name"], "request_ip": context["ip"] or "unknown",
            "request_browser": f"{context['browser']} on {context['os']}",
            "purpose": "log in" if challenge["owner_kind"] == OwnerKind.LOGIN else "confirm a change on your account"}


def _change(device: dict, challenge: dict, client: Client, status: str, reason: str | None, answer: str,
            tell_owner: bool) -> Change:
    """The answer's writes: the challenge decided (part 0), the account's pending pushes
    (part 1: an approval requires push not to be blocked; a fraud report blocks it), the
    audit events and the owner's notices."""
    n, s = now_s(), get_settings()
    account_id, challenge_id = challenge["account_id"], challenge["challenge_id"]
    if reason == "fraud_report":
        pending = store.op_block_push(account_id, challenge_id, random_id(), n + s.push_fraud_block_seconds,
                                      n + max(s.push_fraud_block_seconds, 3600))
    else:
        pending = store.op_forget_push_pending(account_id, challenge_id, random_id(), n,
                                               approving=status == PushStatus.APPROVED)
    made = Change(account_id, challenge["email"], client).add(
        store.op_decide_challenge(device["device_id"], challenge_id, status, n, reason, answer), pending,
    ).audit(f"push_{status}", method_id=challenge["method_id"], challenge_id=challenge_id, reason=reason,
            device_name=device["device_name"])
    if tell_owner:
        made.add(_tell_owner(challenge, status, reason))
    if reason == "wrong_number":
        made.notify("push_wrong_number", **_notice_context(device, challenge))
    if reason == "fraud_report":
        context = challenge["context"]
        made.audit("push_fraud_reported", method_id=challenge["method_id"], challenge_id=challenge_id,
                   requested_from_ip=context["ip"], requested_with=context["user_agent"],
                   push_blocked_until=n + s.push_fraud_block_seconds).notify(
            "push_fraud_reported", block_minutes=max(1, s.push_fraud_block_seconds // 60),
            **_notice_context(device, challenge))
    return made


def decide(device: dict, challenge_id: str, decision: str, number: int | None, report_fraud: bool,
           client: Client) -> dict:
    """The app's answer; the first one wins, and the same answer sent again is answered the
    same. Only the number the browser shows approves: a wrong one is a denial that emails the
    owner. "This wasn't me" (decision "fraud", or report_fraud) ends the login attempt or
    session, pauses the account's push requests, emails the owner and is audited."""
    n = now_s()
    challenge = store.get_challenge(device["device_id"], challenge_id) if is_id(challenge_id) else None
    if challenge is None:
        raise push_method.challenge_not_found("for this device")
    fraud = report_fraud or decision == "fraud"
    answer = _answer(decision, number, fraud)
    if challenge["status"] != PushStatus.PENDING:
        return _answered(challenge, answer)
    if challenge["answer_by"] <= n:
        raise push_method.push_expired_on_device()
    status, reason = _outcome(challenge, decision, number, fraud)
    try:
        _change(device, challenge, client, status, reason, answer, tell_owner=True).commit()
    except store.ConditionFailed as failed:
        return _after_refusal(device, challenge, client, failed, status, reason, answer)
    observability.metric("PushAnswered", Answer=status)
    return {"status": status, "reason": reason}


def _after_refusal(device: dict, challenge: dict, client: Client, failed: store.ConditionFailed, status: str,
                   reason: str | None, answer: str) -> dict:
    """Why the answer's write was refused, and what stands instead."""
    if failed.failed(0):   # answered meanwhile (perhaps this very answer, sent twice), or expired
        answered = store.get_challenge(device["device_id"], challenge["challenge_id"])
        if answered is not None and answered["status"] != PushStatus.PENDING:
            return _answered(answered, answer)
        raise push_method.push_expired_on_device() from None
    if failed.failed(1):
        # A fraud report paused push since this request was sent: it cannot be approved.
        return _record(device, challenge, client, PushStatus.DENIED, "push_blocked", answer)
    # The login attempt or session moved on (a newer push, a logout, its expiry): the
    # answer is still recorded, and a wrong number or a fraud report still reaches the owner.
    try:
        _change(device, challenge, client, status, reason, answer, tell_owner=False).commit()
    except store.ConditionFailed:
        raise push_method.already_decided() from None
    if reason != "fraud_report":
        raise push_method.push_expired_on_device("This push request was replaced or its login ended.") from None
    return {"status": status, "reason": reason}


def _record(device: dict, challenge: dict, client: Client, status: str, reason: str, answer: str) -> dict:
    """A denial the app did not choose, told to the browser if the challenge is still its
    current one."""
    for tell_owner in (True, False):
        try:
            _change(device, challenge, client, status, reason, answer, tell_owner).commit()
            return {"status": status, "reason": reason}
        except store.ConditionFailed as failed:
            if failed.failed(0):
                raise push_method.already_decided() from None
    raise push_method.push_expired_on_device("This push request was replaced or its login ended.")
