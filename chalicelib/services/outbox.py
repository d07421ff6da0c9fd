"""What operators see of the outbox and how they unstick it (`python -m ops.outbox`).

The stream consumer's dead-letter queue (OUTBOX_DEAD_LETTER_QUEUE_URL) gets Lambda's
on-failure record for a batch it gave up on: it describes the batch (its shard, the sequence
numbers, the approximate arrival of its first and last record under `DDBStreamBatchInfo`), not
the records, which the stream drops after 24 hours anyway. The notices themselves are still in
the table, pending: redrive delivers every pending notice (each once, as every sender does), and
removes a dead-letter message once no notice written by its batch's last record is left.
"""
import json
import logging
from datetime import datetime

from chalicelib import aws, store
from chalicelib.clock import now_s
from chalicelib.config import get_settings
from chalicelib.ledger import outbox

log = logging.getLogger(__name__)

# SQS hands out at most 10 messages per receive; a message being redriven is hidden from other
# readers (and from this redrive's next receive) for this long, unless it is kept.
_RECEIVE_BATCH = 10
_VISIBILITY_SECONDS = 300


def status() -> dict:
    """{"pending": [{notice_id, kind, age_seconds, attempts, claimed, last_error}], oldest first,
    "dead_letters": the approximate number of messages in the dead-letter queue, None when the
    stage names none}."""
    now = now_s()
    pending = [{"notice_id": n["notice_id"], "kind": n["kind"], "age_seconds": now - n["created_at"],
                "attempts": n.get("attempts", 0), "claimed": n.get("claimed_until", 0) > now,
                "last_error": n.get("last_error")}
               for n in store.list_pending_notices(now)]
    dead_letters = None
    if _queue_url():
        counts = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        attributes = _sqs().get_queue_attributes(QueueUrl=_queue_url(), AttributeNames=list(counts))["Attributes"]
        dead_letters = sum(int(attributes.get(name, 0)) for name in counts)
    return {"pending": pending, "dead_letters": dead_letters}


def redrive() -> dict:
    """Deliver every pending notice, then remove each dead-letter message whose batch's notices
    are all delivered: {"delivered", "failed", "removed", "kept"} (kept: dead letters left in
    the queue, because a notice of theirs is still pending or they are not the stream's)."""
    messages = _receive_all() if _queue_url() else []
    swept = outbox.sweep(written_by=now_s())
    oldest_pending = min((n["created_at"] for n in store.list_pending_notices(now_s(), oldest_per_partition=1)),
                         default=None)
    removed = kept = 0
    for message in messages:
        last_arrival = _last_arrival(message["Body"])
        if last_arrival is None or (oldest_pending is not None and oldest_pending <= last_arrival):
            # Back in the queue at once, for the next redrive.
            _sqs().change_message_visibility(QueueUrl=_queue_url(), ReceiptHandle=message["ReceiptHandle"],
                                             VisibilityTimeout=0)
            kept += 1
            continue
        _sqs().delete_message(QueueUrl=_queue_url(), ReceiptHandle=message["ReceiptHandle"])
        removed += 1
    return {"delivered": swept["delivered"], "failed": swept["failed"], "removed": removed, "kept": kept}


def _receive_all() -> list[dict]:
    """Every message in the queue now, each hidden from other readers while the redrive runs."""
    messages = []
    while True:
        received = _sqs().receive_message(QueueUrl=_queue_url(), MaxNumberOfMessages=_RECEIVE_BATCH,
                                          VisibilityTimeout=_VISIBILITY_SECONDS, WaitTimeSeconds=0)
        batch = received.get("Messages", [])
        if not batch:
            return messages
        messages += batch


def _last_arrival(body: str) -> int | None:
    """When the last record of a dead-lettered stream batch reached the stream (epoch seconds,
    rounded up), or None when the message is not Lambda's record of a DynamoDB stream batch.
    A notice is written before its record reaches the stream."""
    try:
        batch = json.loads(body)["DDBStreamBatchInfo"]
        arrived = datetime.fromisoformat(batch["approximateArrivalOfLastRecord"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("dead letter not recognised as a DynamoDB stream batch: kept")
        return None
    return int(arrived.timestamp()) + 1


def _queue_url() -> str:
    return get_settings().outbox_dead_letter_queue_url


def _sqs():
    return aws.client("sqs")
