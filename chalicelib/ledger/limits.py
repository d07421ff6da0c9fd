"""Fixed-window rate limits kept in DynamoDB, checked by the same conditional writes that
count them (so they hold across Lambda containers and under concurrency)."""
import logging

from chalicelib import aws, errors, store
from chalicelib.clock import now_s

log = logging.getLogger(__name__)


def counters(window: int, *limits: tuple[str, str, int]) -> list[dict]:
    """Transaction parts counting one hit for each (scope, key, limit)."""
    n = now_s()
    return [store.op_count_hit(scope, key, n, window, limit) for scope, key, limit in limits]


def limited(window: int) -> errors.ApiError:
    return errors.rate_limited(window - now_s() % window)


class Counted:
    """Hits counted together, which can be taken back together. As a context (`with
    counted:`), they are given back when what they were counted for ends in an outage or a
    busy store: not the person's doing, so it does not bring them nearer a 429."""

    def __init__(self, window: int, at: int, limits: tuple[tuple[str, str, int], ...]):
        self.window, self.at, self.limits = window, at, limits

    def refund(self) -> None:
        refund_quietly(self.window, self.at, *((scope, key) for scope, key, _ in self.limits))

    def __enter__(self) -> "Counted":
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if error is not None and not_the_persons(error):
            self.refund()
        return False


def not_the_persons(error: BaseException) -> bool:
    """A failure of ours or of AWS (an outage, a store busy with concurrent changes)."""
    return isinstance(error, store.Busy) or aws.is_outage(error)


def enforce(window: int, *limits: tuple[str, str, int]) -> Counted:
    """Count the hits on their own; 429 rate_limited when any limit is reached."""
    at = now_s()
    try:
        store.transact([store.op_count_hit(scope, key, at, window, limit) for scope, key, limit in limits])
    except store.ConditionFailed:
        raise limited(window) from None
    return Counted(window, at, limits)


def enforce_while(window: int, limits: tuple[tuple[str, str, int], ...], read) -> tuple[object, Counted]:
    """`read()`'s result and the hits, once counted: the counting write runs beside the read
    (one round trip of waiting for both), and over a limit the answer is 429 before anything
    that follows the read (a password hash, say) is paid for. A refusal `read()` raises wins
    over the limit's (the hits stay counted); an outage of the read gives them back."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(enforce, window, *limits)
        try:
            result = read()
        except Exception as error:
            if not_the_persons(error) and counting.exception() is None:
                counting.result().refund()
            raise
        return result, counting.result()


def refund(window: int, counted_at: int, scope: str, key: str) -> None:
    """Take back a hit that turned out not to count (e.g. a lookup that found its code)."""
    store.refund_hit(scope, key, counted_at, window)


def refund_quietly(window: int, counted_at: int, *hits: tuple[str, str]) -> None:
    """Take back hits (scope, key) for a request that failed on an outage, not on its input:
    best effort, as the same outage may refuse these writes (the hits then stay counted)."""
    for scope, key in hits:
        try:
            store.refund_hit(scope, key, counted_at, window)
        except Exception as error:
            if not not_the_persons(error):
                raise
            log.warning("hit of %s not refunded", scope, exc_info=True)
