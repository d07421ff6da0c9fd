"""The per-account security event log, kept 400 days (TTL): building its events."""
from chalicelib import store
from chalicelib.clock import now, random_id
from chalicelib.records import Client

RETENTION_SECONDS = 400 * 24 * 3600
UNKNOWN_EMAIL_RETENTION_SECONDS = 30 * 24 * 3600


def event(kind: str, client: Client, retention: int = RETENTION_SECONDS, **details) -> dict:
    at = now()
    record = {
        "event_id": random_id(),
        "kind": kind,
        "at": int(at),
        "at_ms": int(at * 1000),
        "ip": client.ip,
        "user_agent": client.short_user_agent,
        "expires_at": int(at) + retention,
    }
    if details:
        record["details"] = {k: v for k, v in details.items() if v is not None}
    return record


def op(account_id: str, kind: str, client: Client, **details) -> dict:
    return store.op_put_event(account_id, event(kind, client, **details))


def record(account_id: str, kind: str, client: Client, **details) -> None:
    """An event on its own, a plain write (half a one-item transaction's write units): a
    refused try's, which changes nothing else."""
    store.put_event(account_id, event(kind, client, **details))


def record_unknown_email(email: str, kind: str, client: Client, **details) -> None:
    """The event an account would get, for an email without one (kept 30 days)."""
    store.put_unknown_login_event(email, event(kind, client, UNKNOWN_EMAIL_RETENTION_SECONDS, **details))
