"""Step-up: a fresh second factor on the current session, required before sensitive changes.

Wrong proofs count towards the account lockout, as at login, and a session gets
`step_up_max_failures` tries: then it is ended and the user logs in again with the password.
"""
from chalicelib import store
from chalicelib.clock import now_s
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.methods import webauthn
from chalicelib.services import verification


def window_seconds() -> int:
    return get_settings().step_up_seconds


def require_recent(session: dict) -> None:
    """Raise 403 step_up_required unless the session's last second factor is recent."""
    mfa_at = session.get("mfa_at")
    if session.get("restricted") or mfa_at is None or now_s() - mfa_at > get_settings().step_up_seconds:
        raise ApiError(403, "step_up_required",
                       "Confirm it's you: verify a second factor again (POST /v1/account/step-up).",
                       extra={"step_up_seconds": get_settings().step_up_seconds})


def webauthn_options(session: dict) -> dict:
    """WebAuthn request options for step-up, with a new challenge bound to this session."""
    challenge, expires_at = webauthn.new_challenge()
    options, offered = webauthn.request_options(session["account_id"], challenge)
    try:
        store.set_session_challenge(session["token_hash"], now_s(), challenge, expires_at, offered)
    except store.ConditionFailed:
        raise ApiError(401, "unauthenticated", "Log in to continue.") from None
    return {"public_key": options, "expires_at": expires_at}


def step_up(session: dict, method_id: str | None, proof: dict, client: dict) -> tuple[int, dict]:
    """The new step-up time and the method used (see verification.check)."""
    s = get_settings()
    n = now_s()
    if "challenge_id" in proof:
        from chalicelib.services import push

        method_id, proof = push.proof_from(session, proof["challenge_id"])
    assertion = "credential" in proof
    try:
        reserved = store.reserve_step_up_try(session["token_hash"], n, s.step_up_max_failures, take_challenge=assertion)
    except store.ConditionFailed:
        store.delete_session(session["token_hash"], session["account_id"])
        raise ApiError(401, "unauthenticated", "Too many failed verifications: log in again.") from None
    account = {"account_id": session["account_id"], "email": session["email"]}
    proof = {**proof, "context": f"session:{session['session_id']}"}   # what an SMS code was sent for
    if assertion:
        method_id, proof = webauthn.assertion_proof(reserved, proof)
    used = verification.check(
        account, method_id, proof, client, event="step_up",
        guards=[store.op_mark_step_up(session["token_hash"], n)],
        guard_error=ApiError(401, "unauthenticated", "Log in to continue."),
        tries_left=s.step_up_max_failures - reserved["step_up_tries"],
    )
    return n, used
