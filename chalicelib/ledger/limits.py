"""Fixed-window rate limits kept in DynamoDB, checked by the same conditional writes that
count them (so they hold across Lambda containers and under concurrency)."""
from chalicelib import errors, store
from chalicelib.clock import now_s


def counters(window: int, *limits: tuple[str, str, int]) -> list[dict]:
    """Transaction parts counting one hit for each (scope, key, limit)."""
    n = now_s()
    return [store.op_count_hit(scope, key, n, window, limit) for scope, key, limit in limits]


def limited(window: int) -> errors.ApiError:
    return errors.rate_limited(window - now_s() % window)


def enforce(window: int, *limits: tuple[str, str, int]) -> None:
    """Count the hits on their own; 429 rate_limited when any limit is reached."""
    try:
        store.transact(counters(window, *limits))
    except store.ConditionFailed:
        raise limited(window) from None


def enforce_while(window: int, limits: tuple[tuple[str, str, int], ...], read):
    """`read()`'s result, once the hits are counted: the counting write runs beside the read
    (one round trip of waiting for both), and over a limit the answer is 429 before anything
    that follows the read (a password hash, say) is paid for. A refusal `read()` raises wins
    over the limit's (the hits stay counted)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        counted = pool.submit(enforce, window, *limits)
        result = read()
        counted.result()
    return result


def refund(window: int, counted_at: int, scope: str, key: str) -> None:
    """Take back a hit that turned out not to count (e.g. a lookup that found its code)."""
    store.refund_hit(scope, key, counted_at, window)


def refund_quietly(window: int, counted_at: int, *hits: tuple[str, str]) -> None:
    """Take back hits (scope, key) for a request that failed on an outage, not on its input:
    best effort, as the same outage may refuse these writes (the hits then stay counted)."""
    for scope, key in hits:
        try:
            store.refund_hit(scope, key, counted_at, window)
        except Exception:  # noqa: BLE001 - the caller raises the outage that ended the request
            pass
