"""Email notices through an outbox: a notice is written to the table in the same
transaction as the change it reports, so a failure to send never undoes the change, and the
notice stays in the table until it is delivered. Three senders try it:

- the DynamoDB Streams handler (`deliver_stream_records`, the `outbox_delivery` Lambda), at
  once; a failed send fails the batch, which Lambda retries until the event source mapping's
  limits, then hands the batch's description to the dead-letter queue;
- the sweeper (`sweep`, the `outbox_sweeper` Lambda every 5 minutes), which re-sends every
  notice still pending `outbox_pending_after_seconds` after it was written, for as long as it
  takes SES to accept it;
- an operator's `python -m ops.outbox redrive`, for what the dead-letter queue reports.

In local development (OUTBOX_DELIVERY=inline, STAGE=local and a local AWS:
Settings.inline_outbox) the first try runs right after the write, so the dev mailbox shows
the email at once; the sweeper (localdev/serve.py runs it) retries a failure.

Each notice is mailed once, whichever senders race for it: a sender first claims it with a
conditional write (a lease of `outbox_lease_seconds`), sends, then deletes it; a failed send
gives the claim back. A sender stopped between SES accepting the email and the delete (the
Lambda's time ran out, DynamoDB refused the delete) leaves it claimed until the lease ends, and
it is mailed again then: SES takes no idempotency key, so that one duplicate stays possible
(the rarer one: losing a security notice would be worse).

A link (it carries a token) is kept sealed under the stage's data key (ledger.secrets, itself
wrapped by KMS), bound to its notice, never in the clear, and opened only to send it.
"""
import logging
from datetime import datetime, timezone

from chalicelib import aws, notify, observability, store
from chalicelib.clock import now, now_s, random_id
from chalicelib.config import get_settings
from chalicelib.ledger import secrets
from chalicelib.records import Client

log = logging.getLogger(__name__)


def where(client: Client) -> dict:
    """What every notice says of a change: when, and from where."""
    when = datetime.fromtimestamp(now(), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return {"when": when, "ip": client.ip or "unknown", "user_agent": client.user_agent or "unknown"}


def notice(email: str, kind: str, client: Client, link: str | None = None, **context) -> tuple[str, dict]:
    """(notice id, transaction part). The context says what happened, when, and from where."""
    notice_id = random_id()
    record = {
        "notice_id": notice_id,
        "to": email,
        "kind": kind,
        "created_at": int(now()),
        "context": {**where(client), **context},
    }
    if link is not None:
        record["sealed_link"] = secrets.seal(link.encode(), _link_context(notice_id))
    return notice_id, store.op_put_notice(notice_id, record)


def _link_context(notice_id: str) -> dict[str, str]:
    return {"purpose": "notice_link", "notice_id": notice_id}


def deliver(notice_id: str) -> bool:
    """Send one notice and remove it; False when it was already delivered or another sender
    holds it. Raises when the send fails, leaving the notice for the next try."""
    claim = random_id()
    started = now_s()
    pending = store.claim_notice(notice_id, claim, started, started + get_settings().outbox_lease_seconds)
    if pending is None:
        return False
    try:
        context = dict(pending["context"])
        if "sealed_link" in pending:
            context["link"] = secrets.open_secret(pending["sealed_link"], _link_context(notice_id)).decode()
        notify.send(pending["to"], pending["kind"], **context)
    except Exception as error:
        try:
            store.release_notice(notice_id, claim, type(error).__name__)
        except Exception:
            # The lease ends by itself: the notice is tried again then.
            log.exception("notice %s: claim not released", notice_id)
        raise
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
            # The change stands and the notice stays in the outbox: the sweeper sends it.
            log.exception("notice %s not delivered", notice_id)


def deliver_stream_records(records: list[dict]) -> int:
    """The DynamoDB Streams handler's work: deliver each newly inserted notice. An exception
    makes Lambda retry the batch; already delivered notices are skipped. A notice whose link
    does not open (secrets.SecretUnavailable, logged and counted) does not fail the batch: only
    an operator can mend it, and retrying the batch would hold up the shard's later notices
    for a day. It stays pending, named in `ops.outbox status`, and the sweeper sends it once
    the stage's key opens it again: a notice dropped could not be sent later."""
    delivered = 0
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        notice_id = store.notice_id_from_stream_keys(record.get("dynamodb", {}).get("Keys", {}))
        try:
            if notice_id and deliver(notice_id):
                delivered += 1
        except secrets.SecretUnavailable:
            log.error("notice %s left pending: its link does not open", notice_id)
    return delivered


# A sweep takes at most this many of the oldest pending notices of each of the outbox's GSI1
# partitions: far more than one invocation sends, and a backlog is never read whole.
SWEEP_PER_PARTITION = 100


def sweep(written_by: int | None = None) -> dict:
    """Deliver the notices written by `written_by` (default: `outbox_pending_after_seconds` ago)
    and still pending, oldest first: {"listed", "delivered", "failed"}. An outage of SES or AWS
    (the invocation's time running out too) ends the run early: the rest would fail alike, and
    the next run goes on."""
    if written_by is None:
        written_by = now_s() - get_settings().outbox_pending_after_seconds
    listed = store.list_pending_notices(written_by, SWEEP_PER_PARTITION)
    delivered = failed = 0
    for pending in listed:
        try:
            if deliver(pending["notice_id"]):
                delivered += 1
        except Exception as error:
            failed += 1
            log.warning("notice %s not delivered: %s", pending["notice_id"], type(error).__name__)
            if aws.is_outage(error):
                break
    # What this run found overdue and could not send: the alarmable "notices pending" figure
    # (queued − delivered also counts the notices the stream is about to send).
    observability.metric("NoticesOverdue", len(listed) - delivered)
    return {"listed": len(listed), "delivered": delivered, "failed": failed}
