"""Fixed-window rate limits kept in DynamoDB, checked by the same conditional writes that
count them (so they hold across Lambda containers and under concurrency). A limit is given
as (scope, key, hits allowed per window); a large one is counted on shards (Hit)."""
import logging
from typing import NamedTuple

from chalicelib import aws, crypto, errors, store
from chalicelib.clock import now_s, random_below
from chalicelib.config import get_settings

log = logging.getLogger(__name__)


class Hit(NamedTuple):
    """Where one hit of a limit is counted: its counter, or one shard of it (`shard` not
    None), and the hits that item allows."""
    scope: str
    key: str
    shard: int | None
    limit: int


def hit(scope: str, key: str, limit: int) -> Hit:
    """A limit over `limit_hits_per_shard` is split over shards, each allowed the floor of its
    part: the total stays within the limit (a hit refused while another shard has room errs
    on the safe side), and no item takes more writes than one can in a second."""
    shards = -(-limit // get_settings().limit_hits_per_shard)
    if shards <= 1:
        return Hit(scope, key, None, limit)
    return Hit(scope, key, random_below(shards), limit // shards)


def counters(window: int, *limits: tuple[str, str, int]) -> list[dict]:
    """Transaction parts counting one hit for each (scope, key, limit)."""
    n = now_s()
    return [store.op_count_hit(h.scope, h.key, n, window, h.limit, h.shard) for h in (hit(*lim) for lim in limits)]


def limited(window: int) -> errors.ApiError:
    return errors.rate_limited(window - now_s() % window)


class Counted:
    """Hits counted together, which can be taken back together. As a context (`with
    counted:`), they are given back when what they were counted for ends in an outage or a
    busy store: not the person's doing, so it does not bring them nearer a 429."""

    def __init__(self, window: int, at: int, hits: tuple[Hit, ...]):
        self.window, self.at, self.hits = window, at, hits

    def refund(self) -> None:
        refund_quietly(self.window, self.at, *self.hits)

    def give_back(self, scope: str) -> "Counted":
        """Take back the hit of `scope` (it turned out not to count: a lookup that found its
        code); the others stay counted, as the Counted returned."""
        for given in (h for h in self.hits if h.scope == scope):
            store.refund_hit(given.scope, given.key, self.at, self.window, given.shard)
        return Counted(self.window, self.at, tuple(h for h in self.hits if h.scope != scope))

    def __enter__(self) -> "Counted":
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if error is not None and not_the_persons(error):
            self.refund()
        return False


def not_the_persons(error: BaseException) -> bool:
    """A failure of ours or of AWS (an outage, a store busy with concurrent changes, a stored
    secret that does not open or a key KMS refuses)."""
    return isinstance(error, store.Busy | crypto.SecretUnreadable) or aws.is_outage(error)


def enforce(window: int, *limits: tuple[str, str, int]) -> Counted:
    """Count the hits on their own; 429 rate_limited when any limit is reached."""
    at = now_s()
    hits = tuple(hit(*limit) for limit in limits)
    failures = _count_apart(at, window, hits)
    if failures:
        # As one transaction would: a request refused anywhere counts nowhere.
        refund_quietly(window, at, *(h for h, failure in zip(hits, failures, strict=True) if failure is None))
        if any(isinstance(f, store.ConditionFailed) for f in failures):
            raise limited(window) from None
        raise next(f for f in failures if f is not None)
    return Counted(window, at, hits)


def _count_apart(at: int, window: int, hits: tuple[Hit, ...]) -> list[Exception | None]:
    """Each hit counted by its own conditional write, side by side (one round trip, half a
    transaction's write units): what each write raised (None: counted), or [] when all were
    counted."""
    from concurrent.futures import ThreadPoolExecutor

    def count(h: Hit) -> Exception | None:
        try:
            store.transact([store.op_count_hit(h.scope, h.key, at, window, h.limit, h.shard)])
        except Exception as failure:   # noqa: BLE001 - handed to enforce(), which raises it
            return failure
        return None

    if len(hits) == 1:
        outcomes = [count(hits[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(hits) - 1) as pool:
            others = [pool.submit(count, h) for h in hits[1:]]
            outcomes = [count(hits[0]), *(f.result() for f in others)]
    return outcomes if any(outcomes) else []


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


def refund_quietly(window: int, counted_at: int, *hits: Hit) -> None:
    """Take back hits for a request that failed on an outage, not on its input: best effort,
    as the same outage may refuse these writes (the hits then stay counted)."""
    for given in hits:
        try:
            store.refund_hit(given.scope, given.key, counted_at, window, given.shard)
        except Exception as error:
            if not not_the_persons(error):
                raise
            log.warning("hit of %s not refunded", given.scope, exc_info=True)
