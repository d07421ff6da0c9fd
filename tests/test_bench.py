"""`make bench`'s pieces work, at a tiny size (what they measure is printed by the bench,
never asserted here)."""
import os
import sys

import pytest

from tests.support import PROJECT

sys.path.insert(0, str(PROJECT / "bench"))

import calls  # noqa: E402
import costs  # noqa: E402


def test_calls_overlapping_in_time_are_one_round_trip():
    assert calls._round_trips([]) == 0
    assert calls._round_trips([(0, 1), (0.5, 2), (2, 3), (4, 5), (4.1, 4.2)]) == 3


def test_the_cost_model_prices_what_a_login_used():
    rows = costs.million_logins(costs.LoginUsage(requests=2, seconds=0, memory_mb=1024, wru=18, rru=0, kms=1, ses=0))
    usd = {item: amount for item, _, amount, _ in rows}
    assert usd["API Gateway"] == pytest.approx(7.0)
    assert usd["DynamoDB writes"] == pytest.approx(11.25)
    assert usd["KMS"] == pytest.approx(3.0)
    assert usd["total"] == pytest.approx(7.0 + 0.4 + 11.25 + 3.0)


def test_every_login_step_is_measured_with_its_calls_and_units(monkeypatch):
    monkeypatch.setattr(os, "environ", dict(os.environ))   # measure_steps sets the local stage's
    steps = {cost.name: cost for cost in calls.measure_steps()}
    for name, status in (("password step", 200), ("TOTP verify + session", 200), ("wrong TOTP code", 401),
                         ("recovery code + session", 200), ("wrong password", 401), ("unknown email", 401)):
        assert steps[name].status == status
        assert steps[name].dynamodb >= steps[name].round_trips >= 1
        assert steps[name].wru > 0
    assert steps["TOTP verify + session"].rru > 0


def test_seeded_accounts_log_in_over_http_on_the_embedded_aws(monkeypatch):
    import run
    import seed
    import served

    from chalicelib import passwords

    monkeypatch.setattr(os, "environ", dict(os.environ))   # use_its_aws points this process at the server
    with served.serve("embedded") as server:
        server.use_its_aws()
        seed.seed_accounts(0, 5, passwords.hash_password(seed.PASSWORD))
        found = run.alternating_logins({"embedded": served.Browser(server).login}, [0, 1, 2, 3, 4],
                                       repetitions=1, warm_up=2)
        assert set(found["embedded"]) == {"password", "verify", "login"}
        assert server.memory_mib()[0] > 0
