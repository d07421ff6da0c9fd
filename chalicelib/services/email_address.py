"""The account's email address: resending the sign-up verification link, and changing the
address (asked with a recent second factor, done only when the link mailed to the new
address is used).

No answer tells whether an address has an account: a resend answers the same for unknown,
unverified and verified addresses, and a change to a taken address answers as one to a free
address (the taken address's owner is mailed instead of a link).

The account item is keyed by its email, so a change moves it: one transaction deletes the
old item (only while it is this account's, with this newest change link) and creates the new
one where no verified account is, the same condition that keeps sign-ups unique (an unverified
sign-up gives way: nobody can hold an address whose mail they cannot read). Two accounts
racing for one address cannot both win; paired devices, which carry the email, follow it in
the same transaction. Sessions carry the email they were made with, so a
change ends every session and CLI session of the account: the person logs in again with the
new address (and a second factor), and no session is left pointing at an address that may
later belong to someone else.
"""
from chalicelib import crypto, errors, notify, store
from chalicelib.clock import now_s, random_token
from chalicelib.config import get_settings
from chalicelib.ledger import limits, outbox
from chalicelib.ledger.change import Change
from chalicelib.records import Client
from chalicelib.services import accounts, sessions, step_up

CHANGE_EMAIL = "change_email"
CHANGE_WINDOW = 3600
CHANGE_LIMIT_PER_ACCOUNT = 5
CHANGE_LIMIT_PER_IP = 50


def _link(page: str, token: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/{page}#token={token}"


# ---------------------------------------------------------------- resending the verification link

def resend_verification(email: str, client: Client) -> None:
    """A new link for the address's unverified sign-up (the newest one, whoever made it: its
    email says when and from where, as the first one did). Earlier links keep working: a
    resend asked by someone else must not take the owner's link away. It expires with the
    unverified account, 24 h after its sign-up (sign up again after that). Silent otherwise."""
    s = get_settings()
    limits.enforce(s.signup_window_seconds, ("verify-resend-email", email, s.signup_limit_per_email),
                   ("verify-resend-ip", client.ip_or_unknown, s.signup_limit_per_ip))
    now = now_s()
    account = store.get_account(email, now)
    # (A sign-up older than pending sign-ups' links has no `signup_from`: signing up again
    # mails a link for it.)
    if account is None or account["email_verified"] or "signup_from" not in account:
        return
    token = random_token(32)
    token_hash = crypto.hash_token(token)
    record = {"purpose": accounts.VERIFY_EMAIL, "email": email, "account_id": account["account_id"],
              "password_hash": account["password_hash"], "created_at": now, "expires_at": account["expires_at"]}
    try:
        store.transact([store.op_check_pending_signup(email, account["account_id"], now),
                        store.op_put_email_token(token_hash, record)])
    except store.ConditionFailed:
        return   # verified, expired or signed up again meanwhile: that sign-up mailed its own link
    notify.send(email, "verify_email", link=_link("verify-email", token), **account["signup_from"])


# ---------------------------------------------------------------- changing the address

def _current_account(session: dict) -> dict:
    account = store.get_account(session["email"], now_s())
    if account is None or account["account_id"] != session["account_id"]:
        raise errors.unauthenticated()
    return account


def request_change(session: dict, new_email: str, client: Client) -> None:
    """Mails a confirmation link to a free address, or a notice to a taken address's owner;
    in both cases the old address is told, and the answer is the same."""
    step_up.require_recent(session)
    account = _current_account(session)
    if new_email == account["email"]:
        raise errors.same_email()
    now = now_s()
    change = Change(account["account_id"], account["email"], client).limit(
        CHANGE_WINDOW, ("email-change-account", account["account_id"], CHANGE_LIMIT_PER_ACCOUNT),
        ("email-change-ip", client.ip_or_unknown, CHANGE_LIMIT_PER_IP))
    token = None
    # An unverified sign-up holds no address: the link will prove who reads its mail.
    existing = store.get_account(new_email, now)
    taken = existing is not None and existing["email_verified"]
    if not taken:
        token = random_token(32)
        token_hash = crypto.hash_token(token)
        record = {"purpose": CHANGE_EMAIL, "email": account["email"], "new_email": new_email,
                  "account_id": account["account_id"], "created_at": now,
                  "expires_at": now + get_settings().email_token_seconds}
        change.add(store.op_put_email_token(token_hash, record),
                   store.op_set_email_change_token(account["email"], account["account_id"], token_hash),
                   on_fail=errors.unauthenticated())
    # The same audit event and notice either way: neither tells whether the address was free.
    change.audit("email_change_requested").notify("email_change_requested", new_email=new_email).commit()
    # Sent the same way for both (straight to SES, after the commit: the link's token must not
    # wait in the outbox table), so the answer's time tells nothing either.
    if taken:
        notify.send(new_email, "email_change_taken", **outbox.where(client))
    else:
        notify.send(new_email, "email_change_confirm", link=_link("confirm-email", token))


def confirm_change(token: str, client: Client) -> str:
    """Moves the account to the new address (the link proves it is reachable); ends every
    session of the account. The new email."""
    now = now_s()
    token_hash = crypto.hash_token(token)
    record = store.get_email_token(token_hash, now)
    if record is None or record.get("purpose") != CHANGE_EMAIL:
        raise errors.invalid_token()
    account = store.get_account(record["email"], now)
    if (account is None or account["account_id"] != record["account_id"]
            or account.get("email_change_token") != token_hash):
        raise errors.invalid_token()
    new_email = record["new_email"]
    gone, created = store.op_move_account(account, new_email, token_hash, now)
    change = (Change(account["account_id"], account["email"], client)
              .add(store.op_consume_email_token(token_hash, now), gone, on_fail=errors.invalid_token())
              .add(created, on_fail=errors.email_taken())
              # Paired devices carry the email too; one unpaired meanwhile: try again.
              .add(*[store.op_set_device_email(m["device_id"], account["account_id"], new_email)
                     for m in store.list_methods(account["account_id"], now) if m.get("device_id")],
                   on_fail=errors.try_again())
              .audit("email_changed", old_email=account["email"], new_email=new_email)
              .notify("email_changed", new_email=new_email))
    # Sessions end before the commit as well: should a step after it fail, the token is used
    # and the same request cannot be sent again, yet no session outlives the change.
    sessions.end_sessions(account["account_id"])
    change.commit()
    sessions.end_sessions(account["account_id"])
    return new_email
