"""Login: the password step creates a short-lived, single-use login attempt; the verify
step checks a second factor (services.verification) and issues the session.

Round trips: password step = 1 read + 1 write; verify = 1 conditional update (counts the
try and reads the attempt; for a push, only once approved) + 1 batch read (method, lockout) + 1 conditional update (the
account's try, counted before the proof is checked) + 1 transaction (consume the attempt,
record the method's use, create the session, reset the lockout, audit event).
"""
from chalicelib import passwords, store
from chalicelib.clock import is_id, now_s, random_id, random_token
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.methods import webauthn
from chalicelib.services import audit, cli_login, login_attempts, push, rate_limits, sessions, verification


def _bad_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "The email or password is incorrect.")


def _attempt_gone() -> ApiError:
    return login_attempts.gone()


def start(email: str, password: str, client: dict) -> tuple[dict, sessions.NewSession | None, str | None]:
    """Returns the response body; for an account that must enrol a method first, a
    restricted session to set; else the token that binds the attempt to this browser."""
    if client.get("client") == "cli":
        raise ApiError(400, "browser_login_required",
                       "The CLI logs in through the browser: start with POST /v1/cli/logins and approve it there.",
                       extra={"verification_uri": cli_login.verification_uri(), "start": "/v1/cli/logins"})
    n = now_s()
    s = get_settings()
    # Counted in the same transaction as whatever the step writes: over the limit, the answer
    # is 429 whether or not the password was right.
    limits = rate_limits.counters(s.login_window_seconds, ("login-email", email, s.login_limit_per_email),
                                  ("login-ip", client.get("ip") or "unknown", s.login_limit_per_ip))

    def commit(*ops: dict) -> None:
        try:
            store.transact([*limits, *ops])
        except store.ConditionFailed as failed:
            if any(failed.failed(i) for i in range(len(limits))):
                raise rate_limits.limited(s.login_window_seconds) from None
            raise

    account = store.get_account(email, n)
    if not passwords.verify_password(account["password_hash"] if account else None, password):
        # One transaction either way, so a known email costs what an unknown one does.
        commit(*([audit.op(account["account_id"], "login_failed", client, reason="invalid_password")]
                 if account else []))
        raise _bad_credentials()
    if not account["email_verified"]:
        commit()
        raise ApiError(403, "email_not_verified", "Verify your email address first: follow the link we emailed you.")
    if passwords.needs_rehash(account["password_hash"]):
        store.set_password_hash(email, passwords.hash_password(password))

    summary = account.get("methods", {})
    if account.get("primary_methods", 0) == 0:
        session = sessions.new_session(account["account_id"], email, sessions.WEB, client, restricted=True)
        commit(store.op_put_session(session.token_hash, session.record),
               audit.op(account["account_id"], "enrollment_session_started", client))
        body = {"login_id": None, "expires_at": session.expires_at, "methods": [], "enrollment_required": True}
        return body, session, None

    login_id = random_id()
    expires_at = n + s.login_attempt_seconds
    browser = random_token(32)
    commit(store.op_put_login_attempt(login_id, {
        "browser_hash": login_attempts.browser_hash(browser),
        "account_id": account["account_id"],
        "email": email,
        "tries": 0,
        "used": False,
        "created_at": n,
        "expires_at": expires_at,
        "ip": client.get("ip") or "",
        "user_agent": (client.get("user_agent") or "")[:512],
    }))
    listed = [{"id": mid, "type": m["type"], "label": m["label"]} for mid, m in sorted(summary.items())]
    return ({"login_id": login_id, "expires_at": expires_at, "methods": listed, "enrollment_required": False},
            None, browser)


def _login_not_found() -> ApiError:
    return login_attempts.not_found()


def webauthn_options(login_id: str, browser: str | None) -> dict:
    """WebAuthn request options for the attempt's account, with a new challenge bound to the
    attempt (it replaces any earlier one)."""
    n = now_s()
    attempt = login_attempts.live(login_id, browser)
    challenge, expires_at = webauthn.new_challenge()
    options, offered = webauthn.request_options(attempt["account_id"], challenge)
    try:
        store.set_login_challenge(login_id, n, challenge, expires_at, offered)
    except store.ConditionFailed:
        raise _attempt_gone() from None
    return {"public_key": options, "expires_at": expires_at}


def verify(login_id: str, method_id: str | None, proof: dict, client: dict,
           browser: str | None) -> tuple[sessions.NewSession, dict]:
    """The new session and the method used (see verification.check). A WebAuthn assertion
    (`proof["credential"]`) names its method through its credential and answers the
    challenge that the same write takes from the attempt."""
    s = get_settings()
    n = now_s()
    if not is_id(login_id):
        raise _login_not_found()
    assertion = "credential" in proof
    pushed = proof.get("challenge_id")
    try:
        # A push proof counts a try only once approved: asking before the phone answered costs nothing.
        attempt = store.reserve_login_try(login_id, n, s.login_attempt_max_failures, take_challenge=assertion,
                                          approved_push=pushed, browser_hash=login_attempts.browser_hash(browser))
    except store.ConditionFailed as failed:
        if failed.old is None:
            raise _login_not_found() from None
        old = failed.old
        if not login_attempts.belongs(old, browser):
            raise login_attempts.other_browser() from None
        if pushed and not old["used"] and old["expires_at"] > n and old["tries"] < s.login_attempt_max_failures:
            push.proof_from(old, pushed)   # raises why: not this login's push, pending, denied, expired
        raise _attempt_gone() from None
    if pushed:
        method_id, proof = push.proof_from(attempt, pushed)

    account = {"account_id": attempt["account_id"], "email": attempt["email"]}
    proof = {**proof, "context": f"login:{login_id}"}   # what an SMS code was sent for
    if assertion:
        method_id, proof = webauthn.assertion_proof(attempt, proof)
    session = sessions.new_session(account["account_id"], account["email"], sessions.WEB, client, mfa_at=n)
    used = verification.check(
        account, method_id, proof, client, event="login",
        guards=[store.op_consume_login_attempt(login_id, n)], guard_error=_attempt_gone(),
        tries_left=s.login_attempt_max_failures - attempt["tries"],
        extra_ops=[store.op_put_session(session.token_hash, session.record)],
    )
    return session, used
