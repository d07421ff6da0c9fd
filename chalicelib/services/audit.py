"""Reading the per-account security event log (ledger/audit.py writes it), a page at a time."""
import base64

from chalicelib import errors, store
from chalicelib.clock import now_s


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        sort_key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        sort_key = ""
    if not store.is_event_sort_key(sort_key):
        raise errors.invalid_cursor()
    return sort_key


def page(account_id: str, limit: int, cursor: str | None) -> dict:
    events, last = store.list_events(account_id, now_s(), limit, _decode_cursor(cursor) if cursor else None)
    return {
        "events": [{"id": e["event_id"], "kind": e["kind"], "at": e["at"], "ip": e["ip"],
                    "user_agent": e["user_agent"], "details": e.get("details", {})} for e in events],
        "next_cursor": _encode_cursor(last) if last else None,
    }
