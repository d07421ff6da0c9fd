"""docs/scaling.md checked by a simulation: many logins at once against DynamoDB Local, every
write counted per item (a botocore hook on the app's client). An item every login writes (a hot
key: a global counter, the per-IP counter of a NAT, the email domain's SSO check) takes one
write per login; spread over copies or shards, no item takes more than its share: what one
login's own busiest item takes, or its part of the logins. And sharded limits stay limits:
never more than allowed in total, each hit given back where it was counted."""
import collections
import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.journeys import Person

LOGINS = 24   # at once, from one IP (a NAT)


class WritesPerItem:
    """Items written by the app's DynamoDB calls, by "PK SK": each Put, Update, Delete and
    transaction part (a ConditionCheck in a transaction is billed as a write too)."""

    def __init__(self):
        from chalicelib import aws

        self.counts = collections.Counter()
        aws.client("dynamodb").meta.events.register("before-parameter-build.dynamodb", self._count,
                                                     unique_id="scaling-writes-per-item")

    def _count(self, params, model, **_):
        name = model.name
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            self._add(params.get("Key") or params["Item"])
        elif name == "TransactWriteItems":
            for part in params["TransactItems"]:
                (kind, request), = part.items()
                self._add(request.get("Key") or request["Item"])
        elif name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    (kind, body), = request.items()
                    self._add(body.get("Key") or body["Item"])

    def _add(self, key: dict) -> None:
        self.counts[f"{key['PK']['S']} {key['SK']['S']}"] += 1

    def busiest(self) -> tuple[str, int]:
        return self.counts.most_common(1)[0]

    def clear(self) -> None:
        self.counts.clear()


def picked_in_turn():
    """In place of clock.random_below: 0, 1, 2, ... in turn, a turn per number of choices."""
    turns = collections.defaultdict(itertools.count)
    return lambda n: next(turns[n]) % n


def settings(monkeypatch, **values) -> None:
    from chalicelib.config import get_settings

    for name, value in values.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()


def test_parallel_logins_from_one_nat_take_no_more_writes_on_any_item_than_one_login(
        on_dynamodb_local, threaded_app, make_client, clock, monkeypatch):
    from chalicelib.ledger import limits
    from chalicelib.store import sso

    # A NAT's users, of one email domain: ops raised the per-IP limit (docs/scaling.md), so its
    # counter is sharded; each login's session is issued on a check of one of the domain's copies.
    settings(monkeypatch, LOGIN_LIMIT_PER_IP=100_000)
    people = [Person(make_client(), clock, f"user{i}@example.com").onboard() for i in range(LOGINS + 1)]
    # The service picks a shard or a copy at random; in turn here, so that the shares are exact.
    for module in (limits, sso):
        monkeypatch.setattr(module, "random_below", picked_in_turn())
    writes = WritesPerItem()

    assert people[0].login().status_code == 200
    _, one_login = writes.busiest()   # one login's busiest item of its own
    share = max(one_login, math.ceil(LOGINS / sso.DOMAIN_CHECK_COPIES))

    def all_at_once() -> None:
        clock.advance(30)   # a fresh TOTP step for every account
        writes.clear()
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda person: person.login().status_code, people[1:]))
        assert answers == [200] * LOGINS

    all_at_once()
    item, most = writes.busiest()
    assert most <= share, f"{item} took {most} writes from {LOGINS} logins"
    per_ip = {key: n for key, n in writes.counts.items() if key.startswith("LIMIT#login-ip")}
    assert sum(per_ip.values()) == LOGINS and max(per_ip.values()) == 1

    # Counted on one item, as a limit under LIMIT_HITS_PER_SHARD is: the NAT's counter is the
    # hot key, one write per login.
    settings(monkeypatch, LIMIT_HITS_PER_SHARD=1_000_000)
    all_at_once()
    item, most = writes.busiest()
    assert item.startswith("LIMIT#login-ip#") and most == LOGINS


def test_a_sharded_limit_never_allows_more_than_the_limit(monkeypatch):
    from chalicelib.config import get_settings
    from chalicelib.ledger import limits

    get_settings.cache_clear()
    per_shard = get_settings().limit_hits_per_shard
    for limit in (1, 20, per_shard, per_shard + 1, 100_000, 123_457):
        shards = max(1, -(-limit // per_shard))
        picked = {limits.hit("scope", "key", limit) for _ in range(4 * shards * shards)}
        assert {h.shard for h in picked} == ({None} if shards == 1 else set(range(shards)))
        assert all(h.limit * shards <= limit and h.limit <= per_shard for h in picked)
        # Each shard allows at least its part less one, so the total is short by < shards.
        assert all(h.limit * shards > limit - shards for h in picked)


@pytest.fixture
def shards_in_turn(monkeypatch):
    """Sharded limits pick their shards in turn (0, 1, 2, 0, ...; a turn per number of shards),
    not at random: a hit counted or given back on the wrong shard then shows every run."""
    from chalicelib.ledger import limits

    monkeypatch.setattr(limits, "random_below", picked_in_turn())


def test_a_sharded_per_ip_limit_is_exact_when_its_shards_fill_evenly(api, shards_in_turn, monkeypatch):
    settings(monkeypatch, LOGIN_LIMIT_PER_IP=4, LIMIT_HITS_PER_SHARD=2)   # 2 shards of 2
    for n in range(4):
        assert api.post("/v1/login", {"email": f"user{n}@example.com", "password": "x" * 12}).status_code == 401
    assert api.post("/v1/login", {"email": "other@example.com", "password": "x" * 12}).status_code == 429


def test_found_user_codes_give_their_hit_back_to_the_shard_it_was_counted_on(alice, api, cli, shards_in_turn,
                                                                             monkeypatch):
    settings(monkeypatch, USER_CODE_MISS_LIMIT_GLOBAL=3, LIMIT_HITS_PER_SHARD=1)   # 3 shards of 1
    live = cli.post("/v1/cli/logins", {"client_name": "x"}, browser=False).json["user_code"]
    for _ in range(4):   # round the shards and onto the first again: each found code gave its hit back
        assert api.get(f"/v1/cli/logins/{live}").status_code == 200
    for _ in range(3):
        assert api.get("/v1/cli/logins/BBBB-BBBB").status_code == 404
    assert api.get(f"/v1/cli/logins/{live}").status_code == 429   # every shard spent
