"""Rate-limit counters (fixed windows) and the per-account second-factor lockout."""
from chalicelib.store.engine import ConditionFailed, _get_two, _op_delete, _op_update, _update
from chalicelib.store.keys import _limit_key, _lockout_key, _method_key

# ---------------------------------------------------------------- rate limits

def op_count_hit(scope: str, key: str, now: int, window: int, limit: int) -> dict:
    """Count one hit in the current fixed window of (scope, key); the transaction fails once
    `limit` hits were counted there."""
    start = now - now % window
    return _op_update(_limit_key(scope, key[:200], start), "ADD hits :one SET expires_at = :end",
                      {":one": 1, ":end": start + window, ":limit": limit},
                      condition="attribute_not_exists(hits) OR hits < :limit")


def refund_hit(scope: str, key: str, counted_at: int, window: int) -> None:
    """Take back one hit counted at `counted_at` (its window may be over: then nothing)."""
    start = counted_at - counted_at % window
    try:
        _update(_limit_key(scope, key[:200], start), "ADD hits :minus", {":minus": -1, ":zero": 0},
                condition="hits > :zero")
    except ConditionFailed:
        pass


# ---------------------------------------------------------------- second-factor lockout

def get_method_and_lockout(account_id: str, method_id: str, now: int) -> tuple[dict | None, dict | None]:
    """One round trip for the two items the verify step needs."""
    return _get_two(_method_key(account_id, method_id), _lockout_key(account_id), now)


def reserve_second_factor_try(account_id: str, expected: int, now: int, locked_until: int | None) -> None:
    """Count a try as a failure before its proof is checked (a success deletes the item), and
    only if the count is still `expected`: tries on one account go one at a time, so no
    burst of parallel guesses gets past the lockout. `locked_until` engages the lock with
    the try that reaches the threshold. ConditionFailed when another try got there first."""
    condition = "attribute_not_exists(failures) OR failures = :expected"
    values = {":n": expected + 1, ":now": now, ":expected": expected}
    expression = "SET failures = :n, last_failure_at = :now"
    if locked_until is not None:
        expression += ", locked_until = :until"
        values[":until"] = locked_until
    _update(_lockout_key(account_id), expression, values, condition=condition)


def op_reset_lockout(account_id: str) -> dict:
    return _op_delete(_lockout_key(account_id))
