"""CLI login through the browser (RFC 8628 shape), CLI sessions."""
import re

import pytest

from tests.support import table
from tests.support.journeys import PASSWORD, mailbox

DAY = 24 * 3600


def start(cli, name="mfa-cli on laptop") -> dict:
    response = cli.post("/v1/cli/logins", {"client_name": name}, browser=False)
    assert response.status_code == 201, response.json
    return response.json


def poll(cli, device_code):
    return cli.post("/v1/cli/logins/token", {"device_code": device_code}, browser=False)


def approved_session(api, cli) -> dict:
    """A CLI login started, approved in the browser of `api` and polled for its token: the
    bearer header of the new CLI session."""
    started = start(cli)
    api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    token = poll(cli, started["device_code"]).json["access_token"]
    return {"authorization": f"Bearer {token}"}


def test_start_answers_rfc8628_fields(cli):
    started = start(cli)
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", started["user_code"])
    assert len(started["device_code"]) >= 43  # 256 bits
    assert started["verification_uri"] == "http://localhost:8000/cli-login"
    assert started["verification_uri_complete"] == f"http://localhost:8000/cli-login?user_code={started['user_code']}"
    assert started["expires_in"] == 600 and started["interval"] == 5


def test_device_code_is_stored_only_hashed(cli):
    started = start(cli)
    assert started["device_code"] not in str(table.items())


def test_full_flow_approve_then_token_then_bearer(alice, api, cli, clock):
    started = start(cli)
    assert poll(cli, started["device_code"]).json["error"] == "authorization_pending"
    details = api.get(f"/v1/cli/logins/{started['user_code'].lower()}")
    assert details.status_code == 200
    assert details.json["client_name"] == "mfa-cli on laptop" and details.json["status"] == "pending"
    assert details.json["device"] == "pytest-browser/1.0"
    approved = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    clock.advance(5)
    issued = poll(cli, started["device_code"])
    assert issued.status_code == 200, issued.json
    assert issued.json["token_type"] == "bearer"
    assert issued.json["expires_at"] == int(clock.now()) + 30 * DAY
    bearer = {"authorization": f"Bearer {issued.json['access_token']}"}
    assert cli.get("/v1/account", headers=bearer, browser=False).json["email"] == alice.email

    # Single use: a second poll after success is invalid_grant.
    clock.advance(5)
    again = poll(cli, started["device_code"])
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"

    # Listed with the web sessions, revocable there; notice and audit event.
    listed = api.get("/v1/account/sessions").json["sessions"]
    cli_sessions = [s for s in listed if s["kind"] == "cli"]
    assert len(cli_sessions) == 1
    [notice] = mailbox(api, alice.email, "command-line client")
    assert "mfa-cli on laptop" in notice["text"]
    kinds = [e["kind"] for e in api.get("/v1/account/events").json["events"]]
    assert kinds[:2] == ["cli_login", "cli_login_approved"]
    assert api.delete(f"/v1/account/sessions/{cli_sessions[0]['id']}").status_code == 200
    assert cli.get("/v1/account", headers=bearer, browser=False).status_code == 401


@pytest.mark.parametrize("typed", ["{a} {b}", "{a}{b}", " {a}\t{b} ", "{a}-{b}"])
def test_the_user_code_is_found_as_people_type_it(alice, api, cli, typed):
    code = start(cli)["user_code"]
    as_typed = typed.format(a=code[:4].lower(), b=code[5:])
    assert api.get(f"/v1/cli/logins/{as_typed}").json["user_code"] == code
    approved = api.post("/v1/cli/logins/approve", {"user_code": as_typed, "decision": "approve"})
    assert approved.status_code == 200 and approved.json["status"] == "approved"


def test_denial(alice, api, cli, clock):
    started = start(cli)
    denied = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "deny"})
    assert denied.json["status"] == "denied"
    clock.advance(5)
    answer = poll(cli, started["device_code"])
    assert answer.status_code == 400 and answer.json["error"] == "access_denied"
    twice = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert twice.status_code == 409


def test_slow_down_when_polling_faster_than_the_interval(cli, clock):
    started = start(cli)
    assert poll(cli, started["device_code"]).json["error"] == "authorization_pending"
    clock.advance(2)
    fast = poll(cli, started["device_code"])
    assert fast.status_code == 400 and fast.json["error"] == "slow_down" and fast.json["interval"] == 10
    clock.advance(5)
    assert poll(cli, started["device_code"]).json["error"] == "slow_down"  # the interval is now 10 s, then 15
    clock.advance(15)
    assert poll(cli, started["device_code"]).json["error"] == "authorization_pending"


def test_expiry_after_ten_minutes(alice, api, cli, clock):
    started = start(cli)
    clock.advance(600)
    expired = poll(cli, started["device_code"])
    assert expired.status_code == 400 and expired.json["error"] == "expired_token"
    alice.step_up()
    late = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert late.status_code == 404


def test_unknown_device_code(cli):
    answer = poll(cli, "x" * 43)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"


def test_approval_needs_a_fresh_second_factor(alice, api, cli, clock):
    clock.advance(11 * 60)
    started = start(cli)
    refused = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert refused.status_code == 403 and refused.json["error"] == "step_up_required"
    assert alice.step_up().status_code == 200
    ok = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert ok.status_code == 200


def test_approval_needs_a_full_web_session(person, api, cli):
    person.sign_up()
    person.password_step()  # restricted enrolment session
    started = start(cli)
    refused = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert refused.status_code == 403 and refused.json["error"] == "mfa_enrollment_required"
    anonymous = cli.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"},
                         browser=False)
    assert anonymous.status_code == 401


def test_cli_session_lasts_30_days_without_sliding(alice, api, cli, clock):
    bearer = approved_session(api, cli)
    for _ in range(29):
        clock.advance(DAY)
        assert cli.get("/v1/account", headers=bearer, browser=False).status_code == 200
    clock.advance(DAY)
    assert cli.get("/v1/account", headers=bearer, browser=False).status_code == 401


def test_password_login_from_the_cli_is_refused(alice, cli):
    refused = cli.post("/v1/login", {"email": alice.email, "password": PASSWORD}, headers={"x-client": "cli"},
                       browser=False)
    assert refused.status_code == 400 and refused.json["error"] == "browser_login_required"
    assert refused.json["verification_uri"] == "http://localhost:8000/cli-login"


def test_user_code_guessing_is_rate_limited_per_ip(alice, api, clock):
    for _ in range(20):
        assert api.get("/v1/cli/logins/BBBB-BBBB").status_code == 404
    limited = api.get("/v1/cli/logins/BBBB-BBBB")
    assert limited.status_code == 429 and limited.json["error"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) <= 600
    refused = api.post("/v1/cli/logins/approve", {"user_code": "BBBB-BBBB", "decision": "approve"})
    assert refused.status_code == 429
    clock.advance(600)
    assert api.get("/v1/cli/logins/BBBB-BBBB").status_code == 404


def settings(monkeypatch, **values) -> None:
    from chalicelib.config import get_settings

    for name, value in values.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()


def test_misses_spend_the_global_budget_and_then_no_code_is_found(alice, api, cli, monkeypatch):
    settings(monkeypatch, USER_CODE_MISS_LIMIT_GLOBAL=3)
    live = start(cli)["user_code"]
    for _ in range(3):
        assert api.get("/v1/cli/logins/BBBB-BBBB").status_code == 404
    # Spent: guesses are bounded in total, a right one included.
    assert api.get("/v1/cli/logins/BBBB-BBBB").status_code == 429
    assert api.get(f"/v1/cli/logins/{live}").status_code == 429


def test_a_code_that_exists_spends_none_of_the_global_budget(alice, api, cli, monkeypatch):
    settings(monkeypatch, USER_CODE_MISS_LIMIT_GLOBAL=3)
    live = start(cli)["user_code"]
    for _ in range(5):
        assert api.get(f"/v1/cli/logins/{live}").status_code == 200
    for _ in range(3):
        assert api.get("/v1/cli/logins/BBBB-BBBB").status_code == 404


def test_cli_login_starts_are_limited_per_ip(cli, monkeypatch):
    settings(monkeypatch, CLI_LOGIN_START_LIMIT_PER_IP=2)
    answers = [cli.post("/v1/cli/logins", {"client_name": "x"}, browser=False).status_code for _ in range(3)]
    assert answers == [201, 201, 429]


@pytest.mark.parametrize("code", ["", "AAAA-AAAA", "BBBB-BBB", "BBBB-BBBBB", "bbbb_bbbb"])
def test_malformed_user_codes_are_not_found(alice, api, code):
    response = api.get(f"/v1/cli/logins/{code}") if code else api.post(
        "/v1/cli/logins/approve", {"user_code": code, "decision": "approve"})
    assert response.status_code in (400, 404)


def test_a_cli_session_has_no_step_up_rights_and_cannot_approve_cli_logins(alice, api, cli, clock):
    bearer = approved_session(api, cli)
    refused = cli.post("/v1/account/recovery-codes", {}, headers=bearer, browser=False)
    assert refused.status_code == 403 and refused.json["error"] == "browser_session_required"
    another = start(cli, "second cli")
    chained = cli.post("/v1/cli/logins/approve", {"user_code": another["user_code"], "decision": "approve"},
                       headers=bearer, browser=False)
    assert chained.status_code == 403 and chained.json["error"] == "browser_session_required"
