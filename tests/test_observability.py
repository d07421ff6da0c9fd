"""What the service logs: one JSON line per request (route template, status, latency,
request id, a hash of the account id) and CloudWatch metrics as Embedded Metric Format
lines; never a secret, a code, a token, a password, a cookie or an email address."""
import json
import logging

import pytest

from tests.support.journeys import PASSWORD, totp_code


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(logging.Formatter("%(name)s %(levelname)s %(message)s").format(record))


@pytest.fixture
def logs(app_module, capsys):
    """Everything logged from here on: what is written to stdout (the request and metric
    lines), and every log record of the app's logger and the root logger at INFO."""
    captured = Captured()
    loggers = [logging.getLogger(), app_module.app.log, logging.getLogger("chalicelib")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(captured)
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("chalicelib").setLevel(logging.DEBUG)
    capsys.readouterr()

    def read() -> list[str]:
        captured.lines.extend(capsys.readouterr().out.splitlines())
        return captured.lines

    yield read
    for logger, level in zip(loggers, levels):
        logger.removeHandler(captured)
        logger.setLevel(level)


def json_lines(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def metrics(lines: list[str], name: str) -> list[dict]:
    return [line for line in json_lines(lines) if name in line and "_aws" in line]


def test_a_full_login_logs_one_line_per_request_and_no_secret(person, api, clock, logs, monkeypatch):
    from chalicelib.config import get_settings
    from chalicelib.observability import account_hash

    monkeypatch.setenv("LOCKOUT_THRESHOLD", "2")
    get_settings.cache_clear()
    secrets = {PASSWORD, "wrong horse battery staple", person.email}
    person.onboard()
    secrets |= {person.secret, *api.cookies.values()}

    login_id = person.start_login()
    secrets |= {login_id, *api.cookies.values()}
    clock.advance(30)
    code = totp_code(person.secret, clock.now())
    secrets.add(code)
    verified = person.verify(login_id, code)
    assert verified.status_code == 200
    secrets |= {*api.cookies.values()}
    from chalicelib import store

    account_id = store.get_account(person.email, int(clock.now()))["account_id"]

    refused = api.post("/v1/login", {"email": person.email, "password": "wrong horse battery staple"})
    assert refused.status_code == 401
    for _ in range(2):
        login_id = person.start_login()
        wrong = f"{(int(totp_code(person.secret, clock.now())) + 1) % 1_000_000:06d}"
        secrets |= {login_id, wrong, *api.cookies.values()}
        assert person.verify(login_id, wrong).status_code == 401

    lines = logs()
    requests = [line for line in json_lines(lines) if line.get("type") == "request"]
    assert {"route", "method", "status", "latency_ms", "request_id"} <= set(requests[0])
    assert ("/v1/login/{login_id}/verify", 200) in [(r["route"], r["status"]) for r in requests]
    failed = [r for r in requests if r["route"] == "/v1/login" and r["status"] == 401]
    assert failed and failed[-1]["error"] == "invalid_credentials" and failed[-1]["account"] == account_hash(account_id)
    assert all(r["request_id"] for r in requests)

    assert [m["Method"] for m in metrics(lines, "LoginSucceeded")] == ["totp"]
    assert [m["Method"] for m in metrics(lines, "LoginFailed")] == ["password", "totp", "totp"]
    assert [m["Kind"] for m in metrics(lines, "Lockouts")] == ["delay"]
    assert metrics(lines, "NoticesQueued") and metrics(lines, "NoticesDelivered")

    text = "\n".join(lines)
    secrets |= {account_id, person.email.split("@")[0]}
    leaked = sorted(secret for secret in secrets if secret and secret in text)
    assert leaked == []


def test_metric_lines_are_embedded_metric_format(app_module, logs):
    from chalicelib import observability

    observability.metric("PushAnswered", Answer="approved")
    (line,) = metrics(logs(), "PushAnswered")
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "MFAService"
    assert directive["Metrics"] == [{"Name": "PushAnswered", "Unit": "Count"}]
    assert directive["Dimensions"] == [["Stage"], ["Stage", "Answer"]]
    # Every dimension and the metric are members of the line itself (CloudWatch reads them there).
    assert line["Stage"] == "local" and line["Answer"] == "approved" and line["PushAnswered"] == 1
    assert isinstance(line["_aws"]["Timestamp"], int)


def test_a_5xx_is_counted_where_the_stateful_stacks_alarm_looks(app_module, logs, monkeypatch):
    from chalice import test as chalice_test
    from chalice.config import Config

    from chalicelib.config import get_settings
    from tests.support import PROJECT

    monkeypatch.delenv("TABLE_NAME")   # a misconfigured stage answers 503 to everything
    get_settings.cache_clear()
    assert chalice_test.TestHTTPClient(app_module.app, Config.create()).request("GET", "/openapi.json").status_code == 503
    (counted,) = metrics(logs(), "ServerErrors")
    alarm = json.loads((PROJECT / "infra" / "template.json").read_text())["Resources"]["ServerErrorsAlarm"]["Properties"]
    directive = counted["_aws"]["CloudWatchMetrics"][0]
    assert (alarm["Namespace"], alarm["MetricName"]) == (directive["Namespace"], "ServerErrors")
    assert [d["Name"] for d in alarm["Dimensions"]] in directive["Dimensions"]
    assert counted["Route"] == "/openapi.json" and counted["ServerErrors"] == 1


def test_operator_commands_print_no_metric_lines(alice, capsys):
    """Their output is the operator's (some print JSON); the service's metrics are its own."""
    from ops import recovery

    capsys.readouterr()
    assert recovery.main(["reset-mfa", alice.email, "--reason", "ID checked"]) == 0
    printed = capsys.readouterr().out
    assert printed and not any(line.startswith("{") for line in printed.splitlines())
    alice.api.get("/v1/account")   # the API's own lines are still written
    assert json_lines(capsys.readouterr().out.splitlines())


def test_a_push_login_counts_the_push_sent_its_answer_and_the_login(alice, make_client, clock, logs):
    from tests.support.phone import Phone, pair_phone, start_push_login

    alice.step_up()
    phone = Phone(make_client(origin=None), clock)
    alice.push_method = pair_phone(alice, phone)
    alice.api.post("/v1/logout")
    login_id, pushed = start_push_login(alice)
    assert phone.answer(pushed["challenge_id"], "approve", pushed["number"]).status_code == 200
    assert alice.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]}).status_code == 200
    lines = logs()
    assert len(metrics(lines, "PushSent")) == 1
    assert [m["Answer"] for m in metrics(lines, "PushAnswered")] == ["approved"]
    assert [m["Method"] for m in metrics(lines, "LoginSucceeded")] == ["push"]


def test_the_sweeper_counts_the_notices_it_found_overdue_and_could_not_send(alice, api, app_module, clock, faults,
                                                                             logs):
    from tests.support.faults import ALWAYS, UNAVAILABLE
    from tests.support.outbox import sweep

    faults.fail("ses", UNAVAILABLE, times=ALWAYS)
    response = api.patch(f"/v1/account/methods/{alice.method_id}", {"label": "Renamed"})
    assert response.status_code == 200
    clock.advance(3600)
    sweep(app_module)
    faults.clear()
    sweep(app_module)
    assert [line["NoticesOverdue"] for line in metrics(logs(), "NoticesOverdue")] == [1, 0]
