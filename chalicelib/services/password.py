"""Changing the password (signed in, with step-up) and resetting it with an emailed link.

Both set a new argon2id hash under the signup policy, bump the account's password
generation (a login attempt begun before it can no longer be completed: login.verify
requires the generation it saw) and kill any live reset link. A change ends every other
session of the account; a reset ends all of them and signs nobody in: the next login still
needs the second factor.

A reset request answers the same, with the same work (one read, one transaction, one
email), whether or not the email has an account, so neither reveals which.
"""
from chalicelib import crypto, errors, notify, passwords, store
from chalicelib.clock import now_s, random_token
from chalicelib.config import get_settings
from chalicelib.ledger import audit, limits
from chalicelib.ledger.change import Change
from chalicelib.records import Client
from chalicelib.services import sessions, step_up

PASSWORD_RESET = "password_reset"


def change(session: dict, current_password: str, new_password: str, client: Client) -> int:
    """The number of other sessions (web and CLI) ended; the current one stays."""
    step_up.require_recent(session)
    n = now_s()
    account = store.get_account(session["email"], n)
    if account is None or account["account_id"] != session["account_id"]:
        raise errors.unauthenticated()
    # Guesses of the current password share the password step's budget per email.
    s = get_settings()
    with limits.enforce(s.login_window_seconds, ("password-change", account["account_id"], s.login_limit_per_email)):
        if not passwords.verify_password(account.get("password_hash"), current_password):
            audit.record(account["account_id"], "password_change_failed", client, reason="wrong_password")
            raise errors.wrong_password()
        passwords.check_policy(new_password)
        new_hash = passwords.hash_password(new_password)
        others = [x["token_hash"] for x in store.list_sessions(account["account_id"], n)
                  if x["token_hash"] != session["token_hash"]]
        Change(account["account_id"], account["email"], client).add(
            store.op_change_password(account["email"], account["account_id"], account["password_hash"], new_hash, n),
            on_fail=errors.try_again(),
        ).audit("password_changed", ended_sessions=len(others)).notify("password_changed", ended=len(others)).commit()
        return _end_sessions(account["account_id"], others, keep=session["token_hash"])


def request_reset(email: str, client: Client) -> None:
    s = get_settings()
    n = now_s()
    account = store.get_account(email, n)
    token = random_token(32)
    token_hash = crypto.hash_token(token)
    change = Change(account["account_id"] if account else "", email, client).limit(
        s.password_reset_window_seconds, ("password-reset-email", email, s.password_reset_limit_per_email),
        ("password-reset-ip", client.ip_or_unknown, s.password_reset_limit_per_ip))
    if account is None:
        change.commit()
        notify.send(email, "password_reset_unknown", ip=client.ip or "unknown")
        return
    expires_at = n + s.password_reset_seconds
    change.add(
        store.op_put_email_token(token_hash, {"purpose": PASSWORD_RESET, "email": email,
                                              "account_id": account["account_id"], "created_at": n,
                                              "expires_at": expires_at}),
        store.op_set_reset_token(email, account["account_id"], token_hash, expires_at),
        on_fail=errors.try_again(),
    ).audit("password_reset_requested").commit()
    # Sent directly, not through the outbox: the link is a secret and is never stored.
    link = f"{s.public_base_url.rstrip('/')}/reset-password#token={token}"
    notify.send(email, "password_reset", link=link, ip=client.ip or "unknown")


def confirm_reset(token: str, new_password: str, client: Client) -> int:
    """Set the new password; the number of sessions ended. Nobody is logged in."""
    n = now_s()
    token_hash = crypto.hash_token(token)
    record = store.get_email_token(token_hash, n)
    if record is None or record.get("purpose") != PASSWORD_RESET:
        raise errors.invalid_reset_token()
    passwords.check_policy(new_password)
    new_hash = passwords.hash_password(new_password)
    email, account_id = record["email"], record["account_id"]
    ended = [x["token_hash"] for x in store.list_sessions(account_id, n)]
    # Ended before the commit as well: should a step after it fail, the token is used and the
    # same request cannot be sent again, yet no session that existed outlives the reset.
    before = _end_sessions(account_id, ended)
    Change(account_id, email, client).add(
        store.op_consume_email_token(token_hash, n),
        store.op_reset_password(email, account_id, token_hash, new_hash, n),
        on_fail=errors.invalid_reset_token(),
    ).audit("password_reset", ended_sessions=len(ended)).notify("password_reset_done").commit()
    return before + _end_sessions(account_id, [])


def _end_sessions(account_id: str, listed: list[str], keep: str | None = None) -> int:
    """End the sessions listed before the commit, and every one there after it, read strongly
    through the account's session list (sessions.end_sessions): a session created a moment
    before, or a login that completed in between (its password step made before the change),
    ends too. A login begun before the commit can no longer complete after it (login.verify).
    How many ended."""
    ended, _ = sessions.end_sessions(account_id, keep=keep, also=listed)
    return ended
