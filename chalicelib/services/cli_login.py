"""CLI login through the browser, shaped like OAuth 2.0 Device Authorization (RFC 8628).

The CLI gets a secret device code (stored hashed) and a short user code; the user, logged in
with MFA in the browser, looks the user code up and approves or denies it; the CLI polls the
token endpoint and, once approved, gets a 30-day CLI session exactly once.
"""
from chalicelib import crypto, errors, store
from chalicelib.clock import now_s, random_string, random_token
from chalicelib.config import get_settings
from chalicelib.ledger import limits
from chalicelib.ledger.change import Change
from chalicelib.records import Client, CliLoginStatus
from chalicelib.services import sessions, step_up

# RFC 8628 6.1: 20 consonants, no vowels (no words) and no look-alike characters.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
SLOW_DOWN_STEP = 5


def verification_uri() -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/cli-login"


def normalise_user_code(value: str) -> str | None:
    # Typed as shown, in lower case, with a space (any whitespace, pasted) or without the dash.
    raw = "".join(value.upper().replace("-", " ").split())
    if len(raw) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in raw):
        return None
    return f"{raw[:4]}-{raw[4:]}"


def start(client_name: str, client: Client) -> dict:
    s = get_settings()
    limits.enforce(s.user_code_window_seconds, ("cli-start-ip", client.ip_or_unknown, s.cli_login_start_limit_per_ip))
    n = now_s()
    device_code = random_token(32)
    record = {
        "client_name": client_name,
        "ip": client.ip,
        "user_agent": client.short_user_agent,
        "created_at": n,
        "expires_at": n + s.cli_login_seconds,
        "status": CliLoginStatus.PENDING,
        "interval": s.cli_poll_interval_seconds,
    }
    # 20^8 codes: a collision with a live one is rare; try again with a new code if so.
    for _ in range(5):
        user_code = normalise_user_code(random_string(USER_CODE_ALPHABET, USER_CODE_LENGTH))
        if store.create_cli_login(crypto.hash_token(device_code), user_code, record):
            break
    else:
        raise errors.cli_login_unavailable()
    uri = verification_uri()
    return {
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": uri,
        "verification_uri_complete": f"{uri}?user_code={user_code}",
        "expires_in": s.cli_login_seconds,
        "interval": s.cli_poll_interval_seconds,
    }


def _find(user_code: str, client: Client) -> tuple[dict, limits.Counted]:
    """Every lookup or decision counts per IP; each also takes one miss from the (sharded)
    service-wide budget before the code is read, given back when the code exists: so
    guesses are bounded in total, a live code once the budget is spent included, while
    people who type their code spend none of it. A lookup that fails (an outage) looked
    nothing up: both hits are given back. Also returns the per-IP hit, for a decision that
    AWS then fails to record to give back."""
    s = get_settings()
    counted = limits.enforce(s.user_code_window_seconds,
                             ("user-code-ip", client.ip_or_unknown, s.user_code_limit_per_ip),
                             ("user-code-misses", "all", s.user_code_miss_limit_global))
    normalised = normalise_user_code(user_code)
    with counted:
        login = store.get_cli_login_by_user_code(normalised, now_s()) if normalised else None
    if login is None:
        raise errors.user_code_not_found()
    return login, counted.give_back("user-code-misses")


def describe(user_code: str, client: Client) -> dict:
    login, _ = _find(user_code, client)
    return {
        "user_code": login["user_code"],
        "client_name": login["client_name"],
        "ip": login["ip"],
        "user_agent": login["user_agent"],
        "device": sessions.device_name(login["user_agent"]),
        "created_at": login["created_at"],
        "expires_at": login["expires_at"],
        "status": login["status"],
    }


def decide(session: dict, user_code: str, approve: bool, client: Client) -> str:
    """The decision and its audit event, in one transaction. Deciding again as this session
    already did (a retry whose answer was lost) answers the same; any other decision on a
    login no longer pending is 409."""
    step_up.require_recent(session)   # a web session's: the route takes no CLI token
    login, counted = _find(user_code, client)
    status = CliLoginStatus.APPROVED if approve else CliLoginStatus.DENIED
    # An approval the CLI has collected since is still this approval.
    same = {CliLoginStatus.APPROVED, CliLoginStatus.USED} if approve else {CliLoginStatus.DENIED}
    if login["status"] in same and login.get("decided_by") == session["session_id"]:
        return status
    approver = {"auth": session.get("auth", sessions.PASSWORD),
                **({"sso_connection_id": session["sso_connection_id"]} if session.get("sso_connection_id") else {})}
    with counted:   # a decision AWS failed to record gives its lookup back
        Change(session["account_id"], session["email"], client).add(
            *store.ops_decide_cli_login(login["device_hash"], now_s(), status, session["account_id"],
                                        session["email"], login["expires_at"], approver, session["session_id"]),
            on_fail=errors.cli_login_not_pending(),
        ).audit(f"cli_login_{status}", client_name=login["client_name"], cli_ip=login["ip"]).commit()
    return status


def token(device_code: str, client: Client) -> sessions.NewSession:
    n = now_s()
    device_hash = crypto.hash_token(device_code)
    try:
        login = store.record_cli_poll(device_hash, n)
    except store.ConditionFailed as failed:
        old = failed.old
        if old is None:
            raise errors.token_refused("invalid_grant", "This device code is unknown or was already used.") from None
        if old["expires_at"] <= n:
            raise errors.token_refused("expired_token", "This login expired. Start again.") from None
        interval = old["interval"] + SLOW_DOWN_STEP
        store.slow_down_cli_login(device_hash, n, interval)
        raise errors.slow_down(interval) from None

    if login["expires_at"] <= n:
        raise errors.token_refused("expired_token", "This login expired. Start again.")
    status = login["status"]
    if status == CliLoginStatus.PENDING:
        raise errors.token_refused("authorization_pending", "Waiting for the login to be approved in the browser.")
    if status == CliLoginStatus.DENIED:
        raise errors.token_refused("access_denied", "The login was denied in the browser.")
    if status == CliLoginStatus.CANCELLED:
        raise errors.token_refused("access_denied", "The login was cancelled: the account's sessions were ended "
                                                    "after it was approved. Start again.")
    if status != CliLoginStatus.APPROVED:
        raise errors.token_refused("invalid_grant", "This device code is unknown or was already used.")

    # No step-up rights: the second factor was shown in the browser, not on this device. It was
    # won as the approving session was (an SSO user's CLI session is an SSO session too).
    approver = login.get("approver") or {}
    session = sessions.new_session(login["account_id"], login["email"], sessions.CLI, client,
                                   auth=approver.get("auth", sessions.PASSWORD),
                                   connection_id=approver.get("sso_connection_id"))
    try:
        Change(login["account_id"], login["email"], client).add(
            store.op_consume_cli_login(device_hash, n),
            *store.ops_put_session(session.token_hash, session.record),
            # Only while the account is still there (a deletion cancels approved CLI logins).
            store.op_account_is(login["email"], login["account_id"]),
        ).audit("cli_login", client_name=login["client_name"], session_id=session.record["session_id"]).notify(
            "cli_login", client_name=login["client_name"]).commit()
    except store.ConditionFailed:
        raise errors.token_refused("invalid_grant", "This device code is unknown or was already used.") from None
    return session
