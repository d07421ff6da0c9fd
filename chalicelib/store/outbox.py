"""Notices (the outbox): queued with the change that causes them, claimed by one sender at a
time, deleted once delivered; listed while pending through GSI1."""
from chalicelib.store.engine import ConditionFailed, _db, _op_put, _query, _table, _update
from chalicelib.store.keys import (
    GSI1,
    OUTBOX_SHARDS,
    _key,
    _notice_id,
    _notice_index_key,
    _notice_key,
    _pending_notices_before,
)


def op_put_notice(notice_id: str, notice: dict) -> dict:
    return _op_put(_notice_key(notice_id), {**notice, **_notice_index_key(notice_id, notice["created_at"])},
                   condition="attribute_not_exists(PK)")


def claim_notice(notice_id: str, claim: str, now: int, until: int) -> dict | None:
    """The notice, now held by `claim` until `until` and its attempts counted; None when it was
    delivered already or another sender's claim is still running."""
    try:
        return _update(_notice_key(notice_id),
                       "SET claim = :claim, claimed_until = :until, attempts = if_not_exists(attempts, :zero) + :one",
                       {":claim": claim, ":until": until, ":now": now, ":zero": 0, ":one": 1},
                       condition="attribute_exists(PK) AND "
                                 "(attribute_not_exists(claimed_until) OR claimed_until <= :now)",
                       returns="ALL_NEW")
    except ConditionFailed:
        return None


def release_notice(notice_id: str, claim: str, error: str) -> None:
    """A failed send gives the notice back at once (the next try need not wait for the lease),
    noting why; nothing when another sender has claimed it since."""
    try:
        _update(_notice_key(notice_id), "SET last_error = :error REMOVE claim, claimed_until",
                {":error": error, ":claim": claim}, condition="claim = :claim")
    except ConditionFailed:
        pass


def delete_notice(notice_id: str) -> None:
    _db().delete_item(TableName=_table(), Key=_key(_notice_key(notice_id)))


def list_pending_notices(written_by: int, oldest_per_partition: int | None = None) -> list[dict]:
    """The notices still in the outbox that were written by `written_by` (epoch seconds), oldest
    first: one query per outbox partition of GSI1, each for its `oldest_per_partition` oldest
    (None: all). GSI1 is eventually consistent: a notice written a moment ago, or deleted, may
    be seen late; the claim decides."""
    found = []
    for shard in range(OUTBOX_SHARDS):
        pk, upto = _pending_notices_before(shard, written_by)
        found += _query("GSI1PK = :pk AND GSI1SK <= :upto", {":pk": pk, ":upto": upto}, index=GSI1,
                        limit=oldest_per_partition)
    return sorted(found, key=lambda notice: (notice["created_at"], notice["notice_id"]))


def notice_id_from_stream_keys(keys: dict) -> str | None:
    """The notice id of a stream record's Keys, or None for any other item."""
    return _notice_id(keys.get("PK", {}).get("S", ""), keys.get("SK", {}).get("S", ""))
