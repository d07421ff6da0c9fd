"""Sign-up, email verification and the account view."""
from chalicelib import crypto, errors, methods, passwords, store
from chalicelib.clock import now_s, random_id, random_token
from chalicelib.config import get_settings
from chalicelib.ledger import audit, limits, outbox
from chalicelib.records import Client
from chalicelib.services.sso import connections as sso_connections

VERIFY_EMAIL = "verify_email"


def signup(email: str, password: str, client: Client) -> None:
    """Same answer and the same work (one hash, one encryption, one conditional write, one
    notice written to the outbox) whether or not the email already has an account, so neither
    reveals which.

    An address without a verified account gets a pending sign-up and a link of its own: the
    link's token record carries this sign-up (its account id and password hash), so it works
    whatever anyone signs up with the address afterwards, and the first link of the address
    used makes the account. Nobody can hold an address they cannot read the mail of, and a
    sign-up whose email was lost is mended by signing up again."""
    s = get_settings()
    counted = limits.enforce(s.signup_window_seconds, ("signup-email", email, s.signup_limit_per_email),
                             ("signup-ip", client.ip_or_unknown, s.signup_limit_per_ip))
    # An outage or a conflict is not the person's doing (the pending sign-up may stand:
    # signing up again mails a new link): the hits are given back.
    with counted:
        _sign_up(email, password, client)


def _sign_up(email: str, password: str, client: Client) -> None:
    domain = store.get_domain(sso_connections.domain_of(email))
    if domain and domain["enforced"]:
        raise errors.sso_required(domain["connection_id"])
    passwords.check_policy(password)
    password_hash = passwords.hash_password(password)
    now = now_s()
    account_id = random_id()
    token = random_token(32)
    token_hash = crypto.hash_token(token)
    # Unverified, the account lasts as long as its newest link: an address nobody proves is
    # free again a day after its last sign-up.
    expires_at = now + get_settings().email_token_seconds
    where = outbox.where(client)
    pending = {
        "account_id": account_id,
        "email": email,
        "password_hash": password_hash,
        "email_verified": False,
        "created_at": now,
        "methods": {},
        "expires_at": expires_at,
        "signup_from": where,   # what a resent link's email says of the sign-up it finishes
    }
    record = {
        "purpose": VERIFY_EMAIL,
        "email": email,
        "account_id": account_id,
        "password_hash": password_hash,
        "created_at": now,
        "expires_at": expires_at,
    }
    # Either email goes through the outbox, one write after the sign-up's on both paths (the
    # link sealed on both too): an SES outage neither fails the sign-up nor loses the email.
    link = f"{get_settings().public_base_url.rstrip('/')}/verify-email#token={token}"
    notice_id, notice = outbox.notice(email, VERIFY_EMAIL, client, link=link)
    try:
        store.transact([store.op_put_pending_signup(pending, now),
                        store.op_put_email_token(token_hash, record),
                        audit.op(account_id, "signup", client)])
    except store.ConditionFailed:
        notice_id, notice = outbox.notice(email, "signup_existing", client)
    store.transact([notice])
    outbox.after_commit([notice_id])


def verify_email(token: str, client: Client) -> bool:
    """Makes the account of the link's sign-up, answering False. Used again (a retry whose
    answer was lost, the link opened twice) it changes nothing and answers True; another
    sign-up's link of an address verified meanwhile answers 409 email_already_verified."""
    now = now_s()
    token_hash = crypto.hash_token(token)
    record = store.get_email_token(token_hash, now)
    if record is None or record.get("purpose") != VERIFY_EMAIL:
        raise errors.invalid_token()
    if "used_at" not in record:
        # Links mailed before sign-ups carried their password hash verify nothing: sign up again.
        if "password_hash" not in record:
            raise errors.invalid_token()
        try:
            store.transact([store.op_use_email_token(token_hash, now),
                            store.op_verify_pending_signup(record, token_hash, now),
                            audit.op(record["account_id"], "email_verified", client)])
            return False
        except store.ConditionFailed:
            pass
    account = store.get_account(record["email"], now)
    if account is None or not account["email_verified"]:
        raise errors.invalid_token()   # expired, or the address's account was deleted since
    if account["account_id"] != record["account_id"]:
        raise errors.email_already_verified()
    return True


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
