"""Push challenges after they are sent (methods/push.py sends them): the app's answer, and
the status the browser polls at login."""
import hmac

from chalicelib import store
from chalicelib.clock import is_id, now_s, random_id
from chalicelib.ledger.change import Change
from chalicelib.methods import push as push_method
from chalicelib.records import Client, OwnerKind, PushStatus
from chalicelib.services import login_attempts


def login_status(login_id: str, browser: str | None) -> dict:
    """The login attempt's push status, for the browser that started it."""
    attempt = login_attempts.owned(login_id, browser)
    if login_attempts.is_over(attempt):
        return {"status": PushStatus.EXPIRED, "challenge_id": attempt.get("push_challenge_id"),
                "expires_at": attempt.get("push_answer_by")}
    if attempt.get("push_challenge_id") is None:
        return {"status": PushStatus.PENDING, "challenge_id": None, "expires_at": None}
    return push_method.status_of(attempt)


def _tell_owner(challenge: dict, status: str, report_fraud: bool) -> dict:
    """Record the device's answer where the browser reads it, if that challenge is still the
    owner's current one. A fraud report ends the login attempt or the session, whichever
    challenge is current."""
    kind, owner_id = challenge["owner_kind"], challenge["owner_id"]
    if report_fraud and kind == OwnerKind.SESSION:
        return store.op_end_session(owner_id)
    if report_fraud:
        return store.op_end_login_attempt(owner_id, {"push_status": status, "ended_by": "fraud_report"})
    return store.op_set_on_owner_if(kind, owner_id, {"push_status": status},
                                    requires=(("push_challenge_id", challenge["challenge_id"]),))


def decide(device: dict, challenge_id: str, decision: str, number: int | None, report_fraud: bool,
           client: Client) -> dict:
    """The app's answer; the first one wins. A wrong number counts as a denial; "this wasn't
    me" (report_fraud) ends the login attempt or session, emails the owner and is audited."""
    n = now_s()
    challenge = store.get_challenge(device["device_id"], challenge_id) if is_id(challenge_id) else None
    if challenge is None:
        raise push_method.challenge_not_found("for this device")
    if challenge["status"] != PushStatus.PENDING:
        raise push_method.already_decided()
    if challenge["answer_by"] <= n:
        raise push_method.push_expired_on_device()
    right = number is not None and hmac.compare_digest(str(number), str(challenge["number"]))
    approved = decision == "approve" and right and not report_fraud
    status = PushStatus.APPROVED if approved else PushStatus.DENIED
    reason = None if approved else ("fraud_report" if report_fraud else "wrong_number" if decision == "approve"
                                    else "denied")

    def change(tell_owner: bool) -> Change:
        made = Change(challenge["account_id"], challenge["email"], client).add(
            store.op_decide_challenge(device["device_id"], challenge_id, status, n, reason),
            store.op_forget_push_pending(challenge["account_id"], challenge_id, random_id()),
        ).audit(f"push_{status}", method_id=challenge["method_id"], challenge_id=challenge_id, reason=reason,
                device_name=device["device_name"])
        if tell_owner:
            made.add(_tell_owner(challenge, status, report_fraud))
        if report_fraud:
            context = challenge["context"]
            made.audit("push_fraud_reported", method_id=challenge["method_id"], challenge_id=challenge_id,
                       requested_from_ip=context["ip"], requested_with=context["user_agent"]).notify(
                "push_fraud_reported", device_name=device["device_name"], request_ip=context["ip"] or "unknown",
                request_browser=f"{context['browser']} on {context['os']}",
                purpose="log in" if challenge["owner_kind"] == OwnerKind.LOGIN else "confirm a change on your account")
        return made

    try:
        change(tell_owner=True).commit()
    except store.ConditionFailed as failed:
        if failed.failed(0):
            if challenge["answer_by"] <= now_s():
                raise push_method.push_expired_on_device() from None
            raise push_method.already_decided() from None
        # The login attempt or session moved on (a newer push, a logout, its expiry): the
        # answer is still recorded, and a fraud report still reaches the owner.
        try:
            change(tell_owner=False).commit()
        except store.ConditionFailed:
            raise push_method.already_decided() from None
        if not report_fraud:
            raise push_method.push_expired_on_device("This push request was replaced or its login ended.") from None
    return {"status": status, "reason": reason}
