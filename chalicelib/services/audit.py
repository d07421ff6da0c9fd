"""The per-account security event log, kept 400 days (TTL)."""
import base64

from chalicelib import store
from chalicelib.clock import now, now_s, random_id
from chalicelib.errors import ApiError

RETENTION_SECONDS = 400 * 24 * 3600


def event(kind: str, client: dict, **details) -> dict:
    at = now()
    record = {
        "event_id": random_id(),
        "kind": kind,
        "at": int(at),
        "at_ms": int(at * 1000),
        "ip": client.get("ip") or "",
        "user_agent": (client.get("user_agent") or "")[:512],
        "expires_at": int(at) + RETENTION_SECONDS,
    }
    if details:
        record["details"] = {k: v for k, v in details.items() if v is not None}
    return record


def op(account_id: str, kind: str, client: dict, **details) -> dict:
    return store.op_put_event(account_id, event(kind, client, **details))


def record(account_id: str, kind: str, client: dict, **details) -> None:
    store.put_event(account_id, event(kind, client, **details))


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        sort_key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        sort_key = ""
    if not store.is_event_sort_key(sort_key):
        raise ApiError(400, "invalid_cursor", "The cursor is not one this API returned.")
    return sort_key


def page(account_id: str, limit: int, cursor: str | None) -> dict:
    events, last = store.list_events(account_id, now_s(), limit, _decode_cursor(cursor) if cursor else None)
    return {
        "events": [{"id": e["event_id"], "kind": e["kind"], "at": e["at"], "ip": e["ip"],
                    "user_agent": e["user_agent"], "details": e.get("details", {})} for e in events],
        "next_cursor": _encode_cursor(last) if last else None,
    }
