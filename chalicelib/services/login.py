"""Login: the password step creates a short-lived, single-use login attempt; the verify step
checks a second factor (services.verification) and issues the session.

Round trips: password step = 1 read (with the counting writes beside it) + 1 write; verify =
1 batch read (the attempt, the account's lockout, the domain's SSO enforcement and the
method: the one the proof names, else those the browser's token lists,
services/login_attempts) + 1 transaction counting the try on the attempt and on the
account's lockout, before the proof is checked (for a push, only once approved) + 1
transaction (consume the attempt, check the password was not changed or reset since the
password step, record the method's use, create the session, reset the lockout, audit event).
A domain that enforces SSO since the password step ends the login at the batch read:
enforcing does not end sessions, so a verify that read the domain a moment before it was
enforced ends as one that finished a moment before. A method added since the password step,
which the token does not list, is read on its own: one round trip more.

Every rule of the write that counts holds in its condition, not only in what the batch read:
the read only spares refused tries a write. Tries of one account go one at a time (the
lockout item's version, read in the batch), so a burst of parallel guesses gets one proof
checked, and a challenge the try takes must still be the one read.
"""
from chalicelib import errors, observability, passwords, store
from chalicelib.clock import is_id, now_s, random_id
from chalicelib.config import get_settings
from chalicelib.ledger import audit, limits
from chalicelib.ledger.change import Change
from chalicelib.records import Client, Proof
from chalicelib.services import challenges, cli_login, login_attempts, sessions, verification
from chalicelib.services.sso import connections as sso_connections


def start(email: str, password: str, client: Client) -> tuple[dict, sessions.NewSession | None, str | None]:
    """Returns the response body; for an account that must enrol a method first, a
    restricted session to set; else the token that binds the attempt to this browser."""
    if client.kind == "cli":
        raise errors.browser_login_required(cli_login.verification_uri())
    n = now_s()
    s = get_settings()
    # Every try counts before the password is hashed: over a limit, the answer is 429 whether
    # or not the password was right, and no hash is paid for.
    account, counted = limits.enforce_while(
        s.login_window_seconds, (("login-email", email, s.login_limit_per_email),
                                 ("login-ip", client.ip_or_unknown, s.login_limit_per_ip)),
        lambda: _password_account(email, n))
    with counted:
        return _after_the_count(account, email, password, client, n)


def _after_the_count(account: dict | None, email: str, password: str, client: Client,
                     n: int) -> tuple[dict, sessions.NewSession | None, str | None]:
    change = Change(account["account_id"] if account else "", email, client)
    observability.note_account(account["account_id"] if account else None)
    if not passwords.verify_password(account.get("password_hash") if account else None, password):
        # The same write either way (one event of one size, a plain write), so a known email
        # costs what an unknown one does: its time tells neither (bench/password_timing.py).
        if account:
            audit.record(account["account_id"], "login_failed", client, reason="invalid_password")
        else:
            audit.record_unknown_email(email, "login_failed", client, reason="invalid_password")
        observability.login("failed", "password")
        raise errors.invalid_credentials()
    if not account["email_verified"]:
        raise errors.email_not_verified()
    if passwords.needs_rehash(account["password_hash"]):
        store.set_password_hash(email, passwords.hash_password(password))

    summary = account.get("methods", {})
    if account.get("primary_methods", 0) == 0:
        session = sessions.new_session(account["account_id"], email, sessions.WEB, client, restricted=True)
        change.add(*store.ops_put_session(session.token_hash, session.record)).audit("enrollment_session_started").commit()
        body = {"login_id": None, "expires_at": session.expires_at, "methods": [], "enrollment_required": True}
        return body, session, None

    login_id = random_id()
    expires_at = n + get_settings().login_attempt_seconds
    browser = login_attempts.new_browser_token(account["account_id"], sorted(
        mid for mid, m in summary.items() if challenges.offered(m["type"]) and challenges.located_on_owner(m["type"])),
        sso_connections.domain_of(email))
    store.put_login_attempt(login_id, {
        "browser_hash": login_attempts.browser_hash(browser),
        "account_id": account["account_id"],
        "email": email,
        "tries": 0,
        "used": False,
        "created_at": n,
        "expires_at": expires_at,
        "ip": client.ip,
        "user_agent": client.short_user_agent,
        # The password it was begun with: a change or reset since refuses its verify step.
        "password_generation": account.get("password_generation", 0),
    })
    listed = [{"id": mid, "type": m["type"], "label": m["label"]} for mid, m in sorted(summary.items())
              if challenges.offered(m["type"])]
    return ({"login_id": login_id, "expires_at": expires_at, "methods": listed, "enrollment_required": False},
            None, browser)


def _password_account(email: str, now: int) -> dict | None:
    """The account of the email (or None), unless its domain logs in only through SSO: then
    403 sso_required, whether or not the email has an account (the domain, not the person,
    is revealed), and however many tries were made."""
    account, domain = store.get_account_and_domain(email, sso_connections.domain_of(email), now)
    if domain and domain["enforced"]:
        raise errors.sso_required(domain["connection_id"])
    return account


def challenge(login_id: str, method_id: str | None, client: Client, browser: str | None,
              method_type: str | None = None) -> dict:
    """Begin the second factor's challenge for this browser's live attempt."""
    return challenges.begin(challenges.login_owner(login_id, browser), method_id, client, method_type)


def verify(login_id: str, proof: Proof, client: Client, browser: str | None) -> tuple[sessions.NewSession, dict]:
    """The new session and the method used (see verification.check). The proof names its
    method (directly, or through the challenge it answers); the write that counts the try
    takes what the method's reservation says from the attempt, so a challenge answers once.
    A try that ends in an AWS failure is given back (verification.unchecked)."""
    if not is_id(login_id):
        raise errors.login_not_found()
    try_id = random_id()
    try:
        return _verify(login_id, try_id, proof, client, browser)
    except Exception as failed:
        if verification.unchecked(failed):
            # Also when the write that counted the try failed: only its answer may have been lost.
            verification.release_quietly(store.release_login_try, login_id, try_id)
        raise


def _verify(login_id: str, try_id: str, proof: Proof, client: Client,
            browser: str | None) -> tuple[sessions.NewSession, dict]:
    s = get_settings()
    n = now_s()
    impl = challenges.reading(proof)
    reservation = impl.reservation(proof)
    account_id = login_attempts.account_in(browser) or _account_of(login_id)
    named = getattr(proof, "method_id", None)
    candidates = [named] if is_id(named or "") else login_attempts.methods_in(browser)
    domain = login_attempts.domain_in(browser)
    attempt, found, lock, enforced = store.get_login_try_items(login_id, account_id, candidates, n, domain or "")
    _check_usable(attempt, account_id, browser, reservation.requires, lambda slot: impl.explain(slot, proof))
    if enforced and domain:
        # Enforced since the password step: the login ends here, before a try is counted.
        raise errors.sso_required(enforced["connection_id"])
    owner = challenges.attempt_owner(login_id, attempt)
    method_id, checked = impl.locate(attempt, proof)
    if method_id in found:
        method = found[method_id]
    else:   # not named, nor listed by the token (added since the password step): one read more
        method = store.get_method(account_id, method_id, n) if is_id(method_id or "") else None
    session = sessions.new_session(owner.account_id, owner.email, sessions.WEB, client, mfa_at=n)
    count = store.op_count_login_try(login_id, try_id, account_id, n, s.login_attempt_max_failures,
                                     login_attempts.browser_hash(browser), challenges.taken(attempt, reservation),
                                     takes=reservation.takes, requires=reservation.requires)

    def refused() -> None:
        # Changed since the batch read: why, as it is now; else another try took its challenge.
        current = store.get_login_attempt(login_id)
        if current and try_id in current.get("try_ids", ()):
            return   # this try's own write, sent again
        _check_usable(current, account_id, browser, reservation.requires, lambda slot: impl.explain(slot, proof))
        raise errors.verification_in_progress()

    used = verification.check(
        owner, method_id, method, lock, {**checked, "bound_to": owner.bound_to}, client, event="login",
        owner_try=count, owner_refused=refused,
        guards=[(store.op_consume_login_attempt(login_id, n), errors.login_expired()),
                (store.op_password_unchanged(owner.email, owner.account_id, attempt.get("password_generation", 0)),
                 errors.login_expired()),
                # A token from before tokens named the domain: checked as the session is issued.
                *([] if domain else [(store.op_domain_allows_passwords(sso_connections.domain_of(owner.email)),
                                      errors.sso_required())])],
        tries_left=s.login_attempt_max_failures - attempt["tries"] - 1,
        extra_ops=store.ops_put_session(session.token_hash, session.record),
    )
    return session, used


def _account_of(login_id: str) -> str:
    """The attempt's account, for a browser token that does not name it (or no token: then
    the attempt's answer is 403 or 410, _check_usable)."""
    attempt = store.get_login_attempt(login_id)
    if attempt is None:
        raise errors.login_not_found()
    return attempt["account_id"]


def _check_usable(attempt: dict | None, account_id: str, browser: str | None,
                  requires: tuple[tuple[str, str], ...], explain) -> None:
    """Raise why a try on `attempt` is refused before anything is counted: unknown, another
    browser's, over, out of tries, or without the values `requires` names (`explain` raises
    why: a push not answered); the write that counts the try holds only on the same
    conditions."""
    if attempt is None:
        raise errors.login_not_found()
    if not login_attempts.belongs(attempt, browser) or attempt["account_id"] != account_id:
        raise login_attempts.not_this_browsers(attempt)
    if login_attempts.is_over(attempt) or attempt["tries"] >= get_settings().login_attempt_max_failures:
        raise errors.login_expired()
    if any(attempt.get(attribute) != value for attribute, value in requires):
        explain(attempt)   # raises why: a push not answered, denied, expired, another login's
        raise errors.login_expired()
