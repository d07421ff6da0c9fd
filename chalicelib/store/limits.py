"""Rate-limit counters (fixed windows) and the per-account second-factor lockout."""
from chalicelib.store.engine import ConditionFailed, _get_two, _op_put, _op_update, _update
from chalicelib.store.keys import _limit_key, _lockout_key, _method_key

# ---------------------------------------------------------------- rate limits

def op_count_hit(scope: str, key: str, now: int, window: int, limit: int, shard: int | None = None) -> dict:
    """Count one hit in the current fixed window of (scope, key) (on one of its shards, for a
    sharded counter); the transaction fails once `limit` hits were counted there."""
    start = now - now % window
    return _op_update(_limit_key(scope, key[:200], start, shard), "ADD hits :one SET expires_at = :end",
                      {":one": 1, ":end": start + window, ":limit": limit},
                      condition="attribute_not_exists(hits) OR hits < :limit")


def refund_hit(scope: str, key: str, counted_at: int, window: int, shard: int | None = None) -> None:
    """Take back one hit counted at `counted_at` (its window may be over: then nothing)."""
    start = counted_at - counted_at % window
    try:
        _update(_limit_key(scope, key[:200], start, shard), "ADD hits :minus", {":minus": -1, ":zero": 0},
                condition="hits > :zero")
    except ConditionFailed:
        pass


# ---------------------------------------------------------------- second-factor lockout

def get_method_and_lockout(account_id: str, method_id: str, now: int) -> tuple[dict | None, dict | None]:
    """One round trip for the two items the verify step needs."""
    return _get_two(_method_key(account_id, method_id), _lockout_key(account_id), now)


def op_reserve_second_factor_try(account_id: str, read: dict | None, try_id: str, now: int,
                                 locked_until: int | None) -> dict:
    """Count a try as a failure before its proof is checked (a transaction part, beside the
    owner's own try), only if the lockout item is still as `read` (its `version`; an item
    without one, by its count): tries on one account go one at a time, so no burst of
    parallel guesses gets past the lockout. The write leaves `try_id` as the item's version,
    so the same write sent again (an answer lost) holds and changes nothing, and a write that
    arrives late, after a success or a release replaced the version, is refused.
    `locked_until` engages the lock with the try that reaches the threshold. Its part fails
    when another try got there first."""
    expected = read.get("failures", 0) if read else 0
    values = {":n": expected + 1, ":now": now, ":mine": try_id}
    if read and read.get("version"):
        condition = "version = :read OR version = :mine"
        values[":read"] = read["version"]
    elif read is not None:   # an item written before versions (or holding only a pending reset)
        condition = ("(attribute_exists(PK) AND attribute_not_exists(version) AND "
                     "(attribute_not_exists(failures) OR failures = :expected)) OR version = :mine")
        values[":expected"] = expected
    else:
        condition = "attribute_not_exists(PK) OR version = :mine"
    expression = "SET failures = :n, last_failure_at = :now, version = :mine"
    if locked_until is not None:
        expression += ", locked_until = :until"
        values[":until"] = locked_until
    return _op_update(_lockout_key(account_id), expression, values, condition=condition)


def release_second_factor_try(account_id: str, try_id: str, read: dict | None, version: str) -> bool:
    """Take back the try `try_id` counted, when it could not be checked (an outage): the count
    and the lock go back to what `read` had, under a new `version`. Only while that try is
    still the last one counted (else a later try counted on top of it, and it stays
    counted); False then."""
    read = read or {}
    values = {":mine": try_id, ":version": version, ":failures": read.get("failures", 0)}
    assignments, removals = ["failures = :failures", "version = :version"], []
    for attribute in ("last_failure_at", "locked_until"):
        if attribute in read:
            assignments.append(f"{attribute} = :{attribute}")
            values[f":{attribute}"] = read[attribute]
        else:
            removals.append(attribute)
    expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
    try:
        _update(_lockout_key(account_id), expression, values, condition="version = :mine")
    except ConditionFailed:
        return False
    return True


def op_reset_lockout(account_id: str, version: str) -> dict:
    """A success forgets the failures (and a pending support reset on the item) by replacing
    the item with a new `version` alone, rather than deleting it: a try's write that arrives
    late finds a version it did not read and is refused, where it would create a deleted
    item again."""
    return _op_put(_lockout_key(account_id), {"version": version})
