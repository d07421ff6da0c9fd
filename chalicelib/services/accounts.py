"""Sign-up, email verification and the account view."""
from chalicelib import crypto, errors, methods, notify, passwords, store
from chalicelib.clock import now_s, random_id, random_token
from chalicelib.config import get_settings
from chalicelib.ledger import audit, limits
from chalicelib.records import Client
from chalicelib.services.sso import connections as sso_connections

VERIFY_EMAIL = "verify_email"


def signup(email: str, password: str, client: Client) -> None:
    """Same answer and the same work (one hash, one conditional write, one email) whether or
    not the email already has an account, so neither reveals which."""
    s = get_settings()
    limits.enforce(s.signup_window_seconds, ("signup-email", email, s.signup_limit_per_email),
                        ("signup-ip", client.ip_or_unknown, s.signup_limit_per_ip))
    domain = store.get_domain(sso_connections.domain_of(email))
    if domain and domain["enforced"]:
        raise errors.sso_required(domain["connection_id"])
    passwords.check_policy(password)
    password_hash = passwords.hash_password(password)
    now = now_s()
    account_id = random_id()
    token = random_token(32)
    token_hash = crypto.hash_token(token)
    # Unverified, the account lasts as long as its verification link: someone who signs up
    # with an address that is not theirs holds it for a day at most.
    expires_at = now + get_settings().email_token_seconds
    account = {
        "account_id": account_id,
        "email": email,
        "password_hash": password_hash,
        "email_verified": False,
        "created_at": now,
        "methods": {},
        "expires_at": expires_at,
        "verify_token": token_hash,   # the newest link: a resent one replaces it
    }
    token_record = {
        "purpose": VERIFY_EMAIL,
        "email": email,
        "account_id": account_id,
        "created_at": now,
        "expires_at": expires_at,
    }
    try:
        store.transact([store.op_create_account(account, now),
                        store.op_put_email_token(token_hash, token_record),
                        audit.op(account_id, "signup", client)])
    except store.ConditionFailed:
        notify.send(email, "signup_existing")
        return
    link = f"{get_settings().public_base_url.rstrip('/')}/verify-email#token={token}"
    notify.send(email, "verify_email", link=link)


def verify_email(token: str, client: Client) -> None:
    now = now_s()
    token_hash = crypto.hash_token(token)
    record = store.get_email_token(token_hash, now)
    if record is None or record.get("purpose") != VERIFY_EMAIL:
        raise errors.invalid_token()
    try:
        store.transact([store.op_consume_email_token(token_hash, now),
                        store.op_mark_email_verified(record["email"], record["account_id"], now, token_hash),
                        audit.op(record["account_id"], "email_verified", client)])
    except store.ConditionFailed:
        raise errors.invalid_token() from None


def view(session: dict) -> dict:
    account = store.get_account(session["email"], now_s())
    if account is None or account["account_id"] != session["account_id"]:
        raise errors.unauthenticated()
    return {
        "id": account["account_id"],
        "email": account["email"],
        "verified": account["email_verified"],
        "created_at": account["created_at"],
        "methods_count": len(account.get("methods", {})),
        # Through an identity provider, MFA happened there: no local method is needed.
        "enrollment_required": account.get("primary_methods", 0) == 0 and session.get("auth") != "sso",
        "addable_methods": addable_types(account.get("primary_methods", 0) > 0),
    }


def addable_types(has_primary: bool) -> list[str]:
    """The types this stage lets the account add at POST /v1/account/methods: a backup
    only beside a method that logs in."""
    return [impl.type for impl in methods.REGISTRY.values()
            if impl.enrollment_model and impl.enabled() and (impl.primary or has_primary)]
