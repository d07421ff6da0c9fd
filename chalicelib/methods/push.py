"""Push approval from a mobile authenticator app, with number matching.

Enrolment is a pairing: the browser gets a single-use pairing code (and a QR code of it); the
app posts the code with its P-256 public key and receives a confirmation phrase; the person
types that phrase into the browser, which activates the method. A stolen pairing code thus
cannot bind an attacker's phone silently: its phrase shows on the attacker's phone only.

A login or step-up challenge is a push: a two-digit number shown in the browser, which the
person types in the app (the app is never told it: no candidates to tap without looking),
kept in the owner's push slot (`push_*` attributes of the login attempt or session) and on
the device's challenge item. The app's answers are taken by
services/push/challenges.py; a proof names an approved challenge, and verifying it marks the
challenge used in the same write that issues the session.

Anti-fatigue rules (push bombing): an account has at most `push_pending_limit` unanswered
challenges and `push_hourly_limit` in any sliding hour; after a fraud report ("this wasn't
me") it gets none for `push_fraud_block_seconds`.
"""
import hashlib
import hmac
from typing import Literal

from chalicelib import errors, observability, sns, store, user_agents
from chalicelib.clock import is_id, now_s, random_below, random_choice, random_id, random_string
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.ledger import audit
from chalicelib.methods.base import Enrollment, Reservation, VerificationMethod, Verified
from chalicelib.methods.push_words import WORDS
from chalicelib.records import Client, EnrollmentRequest, Id, MethodStatus, Owner, Proof, PushStatus

PAIRING_SECONDS = 600
CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"   # no vowels (no words), no look-alikes
CODE_LENGTH = 16                                   # 77 bits
PHRASE_WORDS = 3
RECORD_SECONDS = 3600   # a decided or expired challenge stays readable this long
# The owner's push slot: which challenge is current, on which device, and its answer.
SLOT = ("push_challenge_id", "push_device_id", "push_method_id", "push_status", "push_answer_by", "push_reason")


class PushProof(Proof):
    """An approved push challenge (`challenge_id`): it names its method through the login
    attempt or session it was sent for."""
    method_id: Id | None = None
    challenge_id: Id


def challenge_not_found(where: str = "here") -> ApiError:
    return ApiError(404, "challenge_not_found", f"No such push request {where}.")


def already_decided() -> ApiError:
    return ApiError(409, "already_decided", "This push request was already answered.")


def push_expired_on_device(message: str = "This push request expired.") -> ApiError:
    return ApiError(410, "challenge_expired", message)


# Why a push proof cannot be checked yet: (status, error code, message).
_NOT_APPROVED = {
    PushStatus.PENDING: (409, "push_pending", "The push request has not been answered yet."),
    PushStatus.DENIED: (401, "push_denied", "The push request was denied on the phone. Start again, or use another "
                                            "method."),
    PushStatus.EXPIRED: (410, "push_expired", "The push request expired. Send a new one, or use another method."),
}


def pairing_incomplete() -> ApiError:
    return ApiError(409, "pairing_incomplete", "No app has used this pairing code yet: scan the QR code with the app "
                                               "first.")


def _rate_limited(message: str, wait: int) -> ApiError:
    return ApiError(429, "push_rate_limited", message, headers={"Retry-After": str(wait)}, extra={"retry_after": wait})


def normalise_pairing_code(value) -> str | None:
    if not isinstance(value, str):
        return None
    code = value.strip().upper().replace("-", "").replace(" ", "")
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def pairing_code_hash(code: str) -> str:
    return hashlib.sha256(f"pairing:{code}".encode()).hexdigest()


def new_phrase() -> str:
    return " ".join(random_choice(WORDS) for _ in range(PHRASE_WORDS))


def phrase_digest(phrase, salt: str) -> str | None:
    if not isinstance(phrase, str):
        return None
    normalised = " ".join(phrase.lower().replace("-", " ").split())
    return hashlib.sha256(f"{salt}:{normalised}".encode()).hexdigest()


class PairingRequest(EnrollmentRequest):
    """Start pairing an app: a pairing code and its QR code (the app then calls POST /v1/devices)."""
    type: Literal["push"]


class PushMethod(VerificationMethod):
    enrollment_model = PairingRequest
    type = "push"
    default_label = "Mobile app"
    display_name = "mobile authenticator app (push)"
    proof_model = PushProof
    missing_message = "This account has no such mobile app."
    enrollment_seconds = PAIRING_SECONDS
    refusal = ("push_not_approved", "This push approval was already used or is no longer valid. Send a new push "
                                    "request.")
    enrollment_refusal = ("invalid_phrase", "That is not the phrase the app shows. Check it and type it again.")
    enrollment_conflict = ("pairing_expired", "This pairing expired. Start again.")

    def begin_enrollment(self, account, method_id, label):
        import segno

        code = random_string(CODE_ALPHABET, CODE_LENGTH)
        shown = "-".join(code[i:i + 4] for i in range(0, CODE_LENGTH, 4))
        settings = get_settings()
        from urllib.parse import urlencode

        # What the app needs, and nothing secret beyond the single-use code itself.
        uri = "mfa-push://pair?" + urlencode({"api": settings.public_base_url, "code": shown,
                                             "service": settings.service_name})
        expires_at = now_s() + min(settings.pending_method_seconds, PAIRING_SECONDS)   # as the pending method
        return Enrollment(
            record={"pairing_code_hash": pairing_code_hash(code)},
            response={"pairing_code": shown, "pairing_uri": uri, "qr_svg": segno.make(uri, error="m").svg_inline(scale=4)},
            ops=[store.op_put_pairing(pairing_code_hash(code), {
                "account_id": account["account_id"], "method_id": method_id, "email": account["email"],
                "expires_at": expires_at})],
        )

    def complete_enrollment(self, account, method, proof, now):
        if not method.get("device_id"):
            raise pairing_incomplete()
        digest = phrase_digest(proof.get("phrase"), method["phrase_salt"])
        if digest is None or not hmac.compare_digest(digest, method["phrase_hash"]):
            return None
        return Verified(ops=[store.op_activate_device(method["device_id"], int(now))])

    def begin_challenge(self, owner, method_id, client):
        return {"type": "push", **offer(owner, method_id, client)}

    def reservation(self, proof):
        # A push proof counts a try only once approved: asking before the phone answered costs nothing.
        return Reservation(requires=(("push_challenge_id", proof.challenge_id),
                                     ("push_status", PushStatus.APPROVED)))

    def explain(self, slot, proof):
        proof_from(slot, proof.challenge_id)

    def locate(self, slot, proof):
        return proof_from(slot, proof.challenge_id)

    def verify(self, account, method, proof, now):
        if proof.get("push_device_id") != method.get("device_id") or not proof.get("challenge_id"):
            return None
        if proof.get("push_status") != PushStatus.APPROVED:
            return None
        return Verified(ops=[store.op_use_challenge(method["device_id"], proof["challenge_id"], int(now))],
                        details={"challenge_id": proof["challenge_id"]})

    def removal_ops(self, account_id, method):
        return [store.op_delete_device(method["device_id"], account_id)] if method.get("device_id") else []

    def removed(self, method):
        sns.forget_endpoint(method.get("endpoint_arn"))

    def public_view(self, method):
        return {"device_name": method.get("device_name"), "platform": method.get("platform")}


# ---------------------------------------------------------------- challenges (browser side)

def _context(client: Client, n: int) -> dict:
    browser, system = user_agents.browser_and_os(client.user_agent)
    return {"time": n, "ip": client.ip, "location": client.location, "browser": browser, "os": system,
            "user_agent": client.short_user_agent}


def _check_limits(pending_item: dict, n: int) -> tuple[dict, list[int]]:
    """The account's unanswered pushes and the last hour's requests, if one more is allowed;
    403 push_blocked after a fraud report, 429 push_rate_limited otherwise. The hour slides:
    it is not a clock hour."""
    s = get_settings()
    blocked_until = pending_item.get("blocked_until") or 0
    if blocked_until > n:
        raise errors.push_blocked(blocked_until - n)
    pending = {cid: until for cid, until in (pending_item.get("pending") or {}).items() if until > n}
    if len(pending) >= s.push_pending_limit:
        raise _rate_limited(f"{len(pending)} push requests are already waiting for an answer on your phone. Answer "
                            "or deny them, or cancel them where they were sent.", max(pending.values()) - n)
    recent = sorted(t for t in (pending_item.get("recent") or []) if t > n - 3600)
    if len(recent) >= s.push_hourly_limit:
        raise _rate_limited("Too many push requests this hour. Use another method, or try again later.",
                            recent[-s.push_hourly_limit] + 3600 - n)
    return pending, recent


def offer(owner: Owner, method_id: str, client: Client) -> dict:
    """Send a push to the account's app for this login attempt or session; it replaces the
    owner's earlier one."""
    n = now_s()
    s = get_settings()
    method, pending_item = (store.get_method_and_push_pending(owner.account_id, method_id, n)
                            if is_id(method_id or "") else (None, None))
    if method is None or method["type"] != PushMethod.type or method["status"] != MethodStatus.ACTIVE:
        raise errors.method_not_found(PushMethod.missing_message)
    pending_item = pending_item or {}
    pending, recent = _check_limits(pending_item, n)
    challenge_id = random_id()
    number = 10 + random_below(90)
    answer_by = n + s.push_challenge_seconds
    challenge = {"challenge_id": challenge_id, "account_id": owner.account_id, "email": owner.email,
                 "method_id": method_id, "device_id": method["device_id"], "owner_kind": owner.kind,
                 "owner_id": owner.id, "number": number,
                 "context": _context(client, n), "status": PushStatus.PENDING, "created_at": n,
                 "answer_by": answer_by, "expires_at": n + RECORD_SECONDS}
    try:
        store.transact([
            store.op_put_push_pending(owner.account_id, {**pending, challenge_id: answer_by}, [*recent, n],
                                      pending_item.get("version"), random_id()),
            store.op_put_challenge(method["device_id"], challenge_id, challenge),
            store.op_set_on_owner(owner.kind, owner.id, n, {"push_challenge_id": challenge_id,
                                                            "push_device_id": method["device_id"],
                                                            "push_method_id": method_id,
                                                            "push_status": PushStatus.PENDING,
                                                            "push_answer_by": answer_by,
                                                            "push_reason": None},
                                  max_tries=s.login_attempt_max_failures),
            audit.op(owner.account_id, "push_requested", client, method_id=method_id, challenge_id=challenge_id,
                     purpose=owner.kind),
        ])
    except store.ConditionFailed as failed:
        if failed.failed(0):   # another push request of the account got there first
            raise store.Busy() from None
        raise errors.owner_gone(owner.kind) from None
    notified = sns.push_challenge(method["endpoint_arn"], challenge_id)
    if notified:
        observability.metric("PushSent")
    return {"challenge_id": challenge_id, "number": number, "expires_at": answer_by, "notified": notified}


def status_of(slot: dict, challenge_id: str | None = None) -> dict:
    """pending | approved | denied | expired, as the browser sees it, from the login attempt
    or session the challenge belongs to."""
    current = slot.get("push_challenge_id")
    if current is None or (challenge_id is not None and challenge_id != current):
        raise challenge_not_found()
    status = slot.get("push_status", PushStatus.PENDING)
    if status == PushStatus.PENDING and slot.get("push_answer_by", 0) <= now_s():
        status = PushStatus.EXPIRED
    return {"status": status, "challenge_id": current, "expires_at": slot.get("push_answer_by"),
            "reason": slot.get("push_reason") if status == PushStatus.DENIED else None}


def proof_from(slot: dict, challenge_id: str) -> tuple[str, dict]:
    """The push method and the proof that the challenge names, from the login attempt or
    session it was offered on. Not approved (yet): a 4xx."""
    state = status_of(slot, challenge_id)
    refusal = _NOT_APPROVED.get(state["status"])
    if refusal:
        raise ApiError(*refusal)
    return slot["push_method_id"], {"challenge_id": challenge_id, "push_status": state["status"],
                                    "push_device_id": slot["push_device_id"]}
