"""Shared fixtures: moto in-process AWS provisioned from infra/, a controllable clock, and an
API client that behaves like the browser frontend (cookie jar, Origin, X-Requested-With)."""
import contextlib
import json
import os
import re
import sys
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from localdev import embedded_aws  # noqa: E402

LOCAL_STAGE = json.loads((PROJECT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]
ORIGIN = "http://localhost:8000"
PASSWORD = "correct horse battery staple"
T0 = 1_800_000_000  # a fixed start time, on a TOTP step boundary
# Chalice's test client swaps os.environ for a copy during each request; requests from two
# threads can leave a stale copy behind. Each test ends by putting the real one back.
REAL_ENVIRON = os.environ


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "LOCAL_AWS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**embedded_aws.LOCAL_CREDENTIALS, **LOCAL_STAGE}.items():
        monkeypatch.setenv(name, value)
    import boto3

    from chalicelib import aws
    from chalicelib.config import get_settings

    # boto3's default session keeps endpoint settings it has read (AWS_ENDPOINT_URL*): start
    # every test with a new one, as a new Lambda container would.
    boto3.DEFAULT_SESSION = None
    get_settings.cache_clear()
    aws.reset()
    yield
    os.environ = REAL_ENVIRON
    boto3.DEFAULT_SESSION = None
    get_settings.cache_clear()
    aws.reset()


class FrozenClock:
    def __init__(self, start: float = T0):
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock():
    from chalicelib import clock as clock_module

    frozen = FrozenClock()
    clock_module.use_clock(frozen)
    yield frozen
    clock_module.use_clock(None)


@pytest.fixture
def local_aws(monkeypatch):
    from moto import mock_aws

    from chalicelib.config import get_settings

    with mock_aws():
        push_settings = embedded_aws.provision(LOCAL_STAGE["TABLE_NAME"], LOCAL_STAGE["KMS_KEY_ID"],
                                               LOCAL_STAGE["MAIL_FROM"])
        for name, value in push_settings.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield


class ApiClient:
    """Chalice's test client plus a cookie jar and the headers a browser frontend sends."""

    def __init__(self, http, origin: str | None = ORIGIN):
        self.http = http
        self.origin = origin
        self.cookies: dict[str, str] = {}
        self.last = None

    def request(self, method: str, path: str, body=None, headers: dict | None = None, raw: bytes | None = None,
                browser: bool = True):
        sent = {"content-type": "application/json", "user-agent": "pytest-browser/1.0"}
        if browser and self.origin:
            sent["origin"] = self.origin
            sent["x-requested-with"] = "fetch"
        if self.cookies and browser:
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = self.http.request(method, path, headers=sent, body=payload)
        for header in _set_cookies(response):
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        is_json = "json" in str(response.headers.get("Content-Type", ""))
        response.json = json.loads(response.body) if response.body and is_json else None
        self.last = response
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body if body is not None else {}, **kw)


def _set_cookies(response) -> list[str]:
    value = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
    if not value:
        return []
    return value if isinstance(value, list) else [value]


@pytest.fixture
def app_module(local_aws):
    import app as app_module

    return app_module


@pytest.fixture
def make_client(app_module, clock):
    from chalice.test import Client

    clients = []

    def make(origin: str | None = ORIGIN) -> ApiClient:
        chalice_client = Client(app_module.app, stage_name="local", project_dir=str(PROJECT))
        clients.append(chalice_client)
        return ApiClient(chalice_client.http, origin)

    return make


@pytest.fixture
def api(make_client):
    return make_client()


@pytest.fixture
def threaded_app(app_module):
    """Chalice's request object made per-thread, as `chalice local` does, for tests that
    send requests from several threads."""
    from chalice.local import CustomLocalChalice, LocalChalice

    app = app_module.app
    original_class = app.__class__
    CustomLocalChalice.__bases__ = (LocalChalice, original_class)
    app.__class__ = CustomLocalChalice
    yield
    app.__class__ = original_class


@pytest.fixture
def atomic_dynamodb(monkeypatch, threaded_app):
    """DynamoDB applies each request atomically; in-process moto does not (two threads can
    interleave inside one TransactWriteItems), so serialise moto's DynamoDB requests the way
    the real service does. The same races run unserialised on DynamoDB Local
    (tests/test_real_servers.py)."""
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self):
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)


def require_real_servers(kind: str) -> None:
    """DynamoDB Local / LocalStack are installed by `make servers` (part of `make test`).
    Missing ones fail the run in CI and are skipped, loudly, elsewhere."""
    from localdev import servers

    try:
        servers.dynamodb_local_dir()
        if kind == "localstack":
            servers.localstack_python()
    except servers.NotInstalled as missing:
        if os.environ.get("CI"):
            pytest.fail(f"{kind}: {missing}")
        pytest.skip(f"NOT TESTED AGAINST {kind.upper()}: {missing}")


def mailbox(api: ApiClient, to: str | None = None, subject: str | None = None) -> list[dict]:
    messages = api.get("/_dev/mailbox").json["messages"]
    return [m for m in messages if (to is None or to in m["to"]) and (subject is None or subject in m["subject"])]


def verification_token(api: ApiClient, email: str) -> str:
    link = mailbox(api, email, "Verify your email")[0]["links"][0]
    return re.search(r"token=([\w-]+)", link).group(1)


def totp_code(secret: str, at: float) -> str:
    import pyotp

    return pyotp.TOTP(secret).at(at)


class Person:
    """An account driven through the API the way a user would."""

    def __init__(self, api: ApiClient, clock: FrozenClock, email: str = "alice@example.com", password: str = PASSWORD):
        self.api, self.clock, self.email, self.password = api, clock, email, password
        self.secret = None
        self.method_id = None

    def sign_up(self, verify: bool = True) -> "Person":
        assert self.api.post("/v1/accounts", {"email": self.email, "password": self.password}).status_code == 202
        if verify:
            token = verification_token(self.api, self.email)
            assert self.api.post("/v1/accounts/verify-email", {"token": token}).status_code == 200
        return self

    def password_step(self):
        return self.api.post("/v1/login", {"email": self.email, "password": self.password})

    def enroll_totp(self) -> "Person":
        started = self.api.post("/v1/account/methods/totp", {"label": "Phone"})
        assert started.status_code == 201, started.json
        self.secret, self.method_id = started.json["secret"], started.json["method_id"]
        confirmed = self.api.post(f"/v1/account/methods/{self.method_id}/confirm",
                                  {"code": totp_code(self.secret, self.clock.now())})
        assert confirmed.status_code == 200, confirmed.json
        return self

    def onboard(self) -> "Person":
        """Sign up, verify, log in, enrol TOTP: ends with a full session and the clock moved
        past the step used at confirmation."""
        self.sign_up()
        assert self.password_step().json["enrollment_required"] is True
        self.enroll_totp()
        self.clock.advance(30)
        return self

    def add_totp(self, label: str = "Tablet") -> tuple[str, str]:
        """Enrol another TOTP method on a full, recently verified session: (method id, secret)."""
        started = self.api.post("/v1/account/methods/totp", {"label": label})
        assert started.status_code == 201, started.json
        confirmed = self.api.post(f"/v1/account/methods/{started.json['method_id']}/confirm",
                                  {"code": totp_code(started.json["secret"], self.clock.now())})
        assert confirmed.status_code == 200, confirmed.json
        return started.json["method_id"], started.json["secret"]

    def step_up(self):
        """Fresh second factor with the TOTP method; moves the clock to an unused step."""
        self.clock.advance(30)
        return self.api.post("/v1/account/step-up",
                             {"method_id": self.method_id, "code": totp_code(self.secret, self.clock.now())})

    def login(self, code: str | None = None):
        started = self.password_step()
        assert started.status_code == 200, started.json
        login_id = started.json["login_id"]
        return self.api.post(f"/v1/login/{login_id}/verify",
                             {"method_id": self.method_id, "code": code or totp_code(self.secret, self.clock.now())})


@pytest.fixture
def person(api, clock):
    return Person(api, clock)


@contextlib.contextmanager
def serve_locally(mode: str = "embedded", env: dict | None = None, port: int | None = None):
    """`make run`'s program (localdev/serve.py) on a free port, with LOCAL_AWS=`mode`;
    yields its base URL on 127.0.0.1 and stops it (and any real servers it started)."""
    import subprocess
    import tempfile
    import time

    import requests

    from localdev.embedded_aws import free_port

    port = port or free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "LOCAL_AWS")}
    environment.update(env or {}, LOCAL_AWS=mode)
    # A file, not a pipe: a pipe nobody reads stalls the server once its request log fills it.
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([sys.executable, str(PROJECT / "localdev" / "serve.py"), "--port", str(port)],
                               cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(url + "/openapi.json", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("local server did not start:\n" + log.read())
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
