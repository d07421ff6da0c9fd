"""Email notices through an outbox: a notice is written to the table in the same
transaction as the change it reports, then delivered by the DynamoDB Streams handler
(`deliver_stream_records`), which Lambda retries until SES accepts the email. A failure to
send therefore never undoes the change, and no notice is lost: it stays in the table until
it is delivered. In local development (OUTBOX_DELIVERY=inline, STAGE=local
and a local AWS: Settings.inline_outbox) the same delivery runs right
after the write, so the dev mailbox shows the email at once.
"""
import logging
from datetime import datetime, timezone

from chalicelib import notify, observability, store
from chalicelib.clock import now, random_id
from chalicelib.config import get_settings
from chalicelib.records import Client

log = logging.getLogger(__name__)


def where(client: Client) -> dict:
    """What every notice says of a change: when, and from where."""
    when = datetime.fromtimestamp(now(), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return {"when": when, "ip": client.ip or "unknown", "user_agent": client.user_agent or "unknown"}


def notice(email: str, kind: str, client: Client, **context) -> tuple[str, dict]:
    """(notice id, transaction part). The context says what happened, when, and from where."""
    notice_id = random_id()
    record = {
        "notice_id": notice_id,
        "to": email,
        "kind": kind,
        "created_at": int(now()),
        "context": {**where(client), **context},
    }
    return notice_id, store.op_put_notice(notice_id, record)


def deliver(notice_id: str) -> bool:
    """Send one notice and remove it; False when it was already delivered. Raises when SES
    fails, leaving the notice for the next try."""
    pending = store.get_notice(notice_id)
    if pending is None:
        return False
    notify.send(pending["to"], pending["kind"], **pending["context"])
    store.delete_notice(notice_id)
    observability.metric("NoticesDelivered")
    return True


def after_commit(notice_ids: list[str]) -> None:
    if notice_ids:
        # Pending notices = NoticesQueued - NoticesDelivered (CloudWatch metric math).
        observability.metric("NoticesQueued", len(notice_ids))
    if not get_settings().inline_outbox:
        return
    for notice_id in notice_ids:
        try:
            deliver(notice_id)
        except Exception:
            # The change stands and the notice stays in the outbox for a later delivery.
            log.exception("notice %s not delivered", notice_id)


def deliver_stream_records(records: list[dict]) -> int:
    """The DynamoDB Streams handler's work: deliver each newly inserted notice. An exception
    makes Lambda retry the batch; already delivered notices are skipped."""
    delivered = 0
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        notice_id = store.notice_id_from_stream_keys(record.get("dynamodb", {}).get("Keys", {}))
        if notice_id and deliver(notice_id):
            delivered += 1
    return delivered
