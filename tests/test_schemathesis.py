"""Schemathesis against the served API (`make run`'s program on embedded moto): every
operation of /openapi.json, bounded and seeded, once with a web session cookie (plus the
CSRF headers the frontend sends) and once with a CLI bearer token. No 5xx; every answer's
status, content type, headers and body are what the document declares; a method a path
lacks gets 405 with Allow; every 4xx is {error, message}."""
import itertools

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (requirements-dev.txt)")

from tests.support.http import ORIGIN  # noqa: E402
from tests.support.journeys import cli_token_over_http, onboarded_browser  # noqa: E402
from tests.support.servers import serve_locally  # noqa: E402

# Both tests on one worker: one served API for the module.
pytestmark = pytest.mark.xdist_group("schemathesis")
SEED = 17
# Fuzzed examples per operation, beside the coverage phase's deterministic cases.
EXAMPLES_PER_OPERATION = 4
SESSION_COOKIE = "__Host-mfa_session"
_accounts = itertools.count()


@pytest.fixture(scope="module")
def base_url():
    # One client, one IP: the per-IP limits raised so that the run explores the routes rather
    # than their 429 (declared, and met by the per-email and per-account limits meanwhile).
    raised = {name: "100000" for name in ("SIGNUP_LIMIT_PER_IP", "LOGIN_LIMIT_PER_IP", "PASSWORD_RESET_LIMIT_PER_IP",
                                           "CLI_LOGIN_START_LIMIT_PER_IP", "USER_CODE_LIMIT_PER_IP")}
    with serve_locally("embedded", raised) as url:
        yield url


class Credential:
    """A session for the generated requests, put on each one as it is sent. A request can end
    the session (logout, deleting the account): later requests to the same operation meet the
    401 that follows, and the next operation starts with a new session. (Schemathesis' auth
    providers set the token when a case is drawn, and the coverage phase draws its cases ahead:
    an ended session would be sent again, each time costing a new account.)"""

    def __init__(self, kind: str, base_url: str):
        self.kind, self.base_url = kind, base_url
        self.token: str | None = None
        self.ended_during: str | None = None

    def _new_token(self) -> str:
        browser, _ = onboarded_browser(self.base_url, f"schemathesis-{next(_accounts)}@example.com")
        return browser.token if self.kind == "web" else cli_token_over_http(browser)

    def apply(self, case) -> None:
        if self.token is None or (self.ended_during and self.ended_during != case.operation.label):
            self.token, self.ended_during = self._new_token(), None
        if self.kind == "web":
            case.cookies = {**(case.cookies or {}), SESSION_COOKIE: self.token}
            case.headers = {**(case.headers or {}), "Origin": ORIGIN, "X-Requested-With": "fetch"}
        else:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {self.token}"}

    def answered(self, case, response) -> None:
        ended = response.status_code == 401 and response.json().get("error") == "unauthenticated"
        if ended and self.ended_during is None:
            self.ended_during = case.operation.label


def client_errors_have_the_api_shape(ctx, response, case):
    """Every 4xx is JSON {error, message}; the identity provider's callbacks answer a browser a
    page instead, where the document declares one."""
    if not 400 <= response.status_code < 500:
        return
    documented = case.operation.definition.raw["responses"].get(str(response.status_code), {}).get("content", {})
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.startswith("text/html") and "text/html" in documented:
        return
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str), \
        f"{response.status_code} without {{error, message}}: {response.text[:200]}"


def _needs_a_session(context) -> bool:
    security = context.operation.definition.raw.get("security") or []
    return any("sessionCookie" in scheme or "bearer" in scheme for scheme in security)


CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
          "response_schema_conformance", "negative_data_rejection", "unsupported_method"]


@pytest.fixture(scope="module")
def web_session(base_url):
    return Credential("web", base_url)


@pytest.fixture(scope="module")
def cli_token(base_url):
    return Credential("cli", base_url)


def load_schema(base_url: str, phases: dict):
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "phases": phases,
        # Refusing a schema-violating body: 413 too when the violation is its size.
        "checks": {"negative_data_rejection": {"expected-statuses": [
            "400", "401", "403", "404", "405", "409", "413", "415", "422", "429"]}},
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "database": "none",
                       # The session comes from Credential, not from generated cookies or headers.
                       "with-security-parameters": False},
    })
    return schemathesis.openapi.from_url(base_url + "/openapi.json", config=config)


@pytest.fixture(scope="module")
def api_schema(base_url):
    return load_schema(base_url, {"coverage": {"enabled": True}, "fuzzing": {"enabled": True}})


@pytest.fixture(scope="module")
def api_schema_fuzzed(base_url):
    # The coverage phase's cases (undeclared methods, each field's edge values) meet the same
    # parsing whatever the session: the web session's run has them.
    return load_schema(base_url, {"coverage": {"enabled": False}, "fuzzing": {"enabled": True}})


def call_and_check(case, credential: Credential) -> None:
    from schemathesis import checks

    needs_a_session = _needs_a_session(case)
    if needs_a_session:
        credential.apply(case)
    response = case.call()
    if needs_a_session:
        credential.answered(case, response)
    case.validate_response(response, checks=[getattr(checks, name) for name in CHECKS] + [
        client_errors_have_the_api_shape])


every_operation = schemathesis.pytest.from_fixture("api_schema")


@every_operation.parametrize()
def test_every_operation_with_a_web_session(case, web_session):
    call_and_check(case, web_session)


@schemathesis.pytest.from_fixture("api_schema_fuzzed").include(_needs_a_session).parametrize()
def test_operations_that_need_a_session_with_a_cli_token(case, cli_token):
    # The routes without a session answer the same to any client: the web session's run covers them.
    call_and_check(case, cli_token)
