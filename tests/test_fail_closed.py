"""Fail closed: the dev-only features (/_dev/ routes, the inline outbox) need an explicit
STAGE=local and a local AWS (moto in this process, or endpoints on a loopback address), off
Lambda; a stage that lacks a setting it needs answers every request 503
service_misconfigured, and the log names what is missing."""
import logging

import pytest
from chalice import test as chalice_test
from chalice.config import Config

from tests.support import LOCAL_STAGE

DEPLOYED = {"STAGE": "prod", "TABLE_NAME": "mfa-prod", "KMS_KEY_ID": "alias/mfa-prod",
            "PUBLIC_BASE_URL": "https://mfa.example.com", "ALLOWED_ORIGINS": "https://mfa.example.com",
            "RP_ID": "mfa.example.com"}
LOCAL = {**LOCAL_STAGE, "LOCAL_AWS": "embedded"}


@pytest.fixture
def serve(app_module, monkeypatch, caplog):
    """A GET to the app with exactly these variables set (Chalice's own test client would
    apply the local stage's), and the app's log lines."""
    from chalicelib.config import get_settings

    monkeypatch.setattr(app_module.app.log, "propagate", True)   # into caplog
    caplog.set_level(logging.INFO)

    def get(path: str, environment: dict):
        for name in {*LOCAL_STAGE, *DEPLOYED, "LOCAL_AWS", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
                     "AWS_LAMBDA_FUNCTION_NAME"}:
            monkeypatch.delenv(name, raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return chalice_test.TestHTTPClient(app_module.app, Config.create()).request("GET", path)

    return get


def refusal_logged(caplog) -> str:
    lines = [r.getMessage() for r in caplog.records if "refusing requests" in r.getMessage()]
    assert lines, "no log line names the missing settings"
    return lines[-1]


def test_a_deployed_stage_with_its_settings_serves(serve):
    assert serve("/openapi.json", DEPLOYED).status_code == 200


def test_without_stage_nothing_is_served(serve, caplog):
    response = serve("/openapi.json", {name: value for name, value in DEPLOYED.items() if name != "STAGE"})
    assert response.status_code == 503 and response.json_body["error"] == "service_misconfigured"
    assert refusal_logged(caplog).endswith("settings STAGE")


@pytest.mark.parametrize("name", ["TABLE_NAME", "KMS_KEY_ID", "ALLOWED_ORIGINS", "RP_ID", "PUBLIC_BASE_URL"])
def test_a_deployed_stage_missing_a_required_setting_is_refused(serve, caplog, name):
    response = serve("/openapi.json", {key: value for key, value in DEPLOYED.items() if key != name})
    assert response.status_code == 503 and response.json_body["error"] == "service_misconfigured"
    assert refusal_logged(caplog).endswith(f"settings {name}")
    assert name not in response.body.decode()   # the log names it, not the public answer


@pytest.mark.parametrize("name", ["PUBLIC_BASE_URL", "ALLOWED_ORIGINS"])
def test_a_deployed_stage_over_plain_http_is_refused(serve, caplog, name):
    response = serve("/openapi.json", {**DEPLOYED, name: "http://mfa.example.com"})
    assert response.status_code == 503 and response.json_body["error"] == "service_misconfigured"
    assert refusal_logged(caplog).endswith(f"settings {name} (https://)")


def test_the_local_stage_on_lambda_is_refused_over_plain_http(serve, caplog):
    response = serve("/openapi.json", {**LOCAL, "AWS_LAMBDA_FUNCTION_NAME": "mfa-local-app"})
    assert response.status_code == 503
    assert "PUBLIC_BASE_URL (https://)" in refusal_logged(caplog)


@pytest.mark.parametrize("path", ["/_dev/mailbox", "/_dev/pushes"])
def test_dev_routes_answer_in_local_development(serve, path):
    assert serve(path, LOCAL).status_code == 200
    assert serve(path, {**LOCAL, "LOCAL_AWS": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}).status_code == 200


@pytest.mark.parametrize("path", ["/_dev/mailbox", "/_dev/pushes"])
@pytest.mark.parametrize("variables, status", [
    pytest.param({**DEPLOYED, "LOCAL_AWS": "embedded"}, 404, id="deployed-stage"),
    # Another stage with the local stage's http:// settings serves nothing at all.
    pytest.param({**LOCAL, "STAGE": "prod"}, 503, id="stage-prod-with-local-settings"),
    pytest.param({**LOCAL, "LOCAL_AWS": ""}, 404, id="local-stage-without-local-aws"),
    pytest.param({**LOCAL, "LOCAL_AWS": "real"}, 404, id="local-stage-on-real-aws"),
    pytest.param({**LOCAL, "AWS_ENDPOINT_URL": "https://dynamodb.us-east-1.amazonaws.com"}, 404, id="remote-endpoint"),
    pytest.param({**LOCAL, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
                  "AWS_ENDPOINT_URL_SES": "http://10.0.0.8:4566"}, 404, id="one-service-elsewhere"),
    pytest.param({**LOCAL, "AWS_ENDPOINT_URL": "http://localhost.example.com:4566"}, 404, id="lookalike-host"),
])
def test_dev_routes_are_refused_without_local_stage_and_local_aws(serve, path, variables, status):
    response = serve(path, variables)
    assert response.status_code == status
    assert response.json_body["error"] == ("not_found" if status == 404 else "service_misconfigured")


def test_a_missing_stage_never_turns_on_dev_routes(serve):
    environment = {name: value for name, value in LOCAL.items() if name != "STAGE"}
    assert serve("/_dev/mailbox", environment).status_code == 503


def test_the_local_stage_on_real_aws_serves_without_dev_routes(serve):
    """`LOCAL_AWS=real make run`: the local stage's http://localhost settings, the API
    served, the dev routes not."""
    environment = {**LOCAL, "LOCAL_AWS": "real"}
    assert serve("/openapi.json", environment).status_code == 200
    assert serve("/_dev/mailbox", environment).status_code == 404


@pytest.mark.parametrize("variables, inline", [
    (LOCAL, True),
    ({**LOCAL, "LOCAL_AWS": "real"}, False),
    ({**LOCAL, "AWS_LAMBDA_FUNCTION_NAME": "mfa-local-app"}, False),
    ({**DEPLOYED, "OUTBOX_DELIVERY": "inline", "LOCAL_AWS": "embedded"}, False),
])
def test_the_outbox_sends_inline_only_in_local_development(monkeypatch, variables, inline):
    from chalicelib.config import get_settings
    from chalicelib.ledger import outbox

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    sent = []
    monkeypatch.setattr(outbox, "deliver", sent.append)
    outbox.after_commit(["notice"])
    assert sent == (["notice"] if inline else [])
