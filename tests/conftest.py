"""Shared fixtures: moto in-process AWS provisioned from infra/, a controllable clock, an
API client that behaves like the browser frontend, and the people who use it. The helpers
they are built on are in tests/support/."""
import os
import sys

import pytest

from tests.support import LOCAL_STAGE, PROJECT
from tests.support.clock import FrozenClock
from tests.support.http import ORIGIN, ApiClient
from tests.support.journeys import Person

sys.path.insert(0, str(PROJECT))

from localdev import embedded_aws  # noqa: E402

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
    from chalicelib.ledger import secrets

    # boto3's default session keeps endpoint settings it has read (AWS_ENDPOINT_URL*): start
    # every test with a new one, as a new Lambda container would (no data key in memory either).
    boto3.DEFAULT_SESSION = None
    get_settings.cache_clear()
    aws.reset()
    secrets.forget_keys()
    yield
    os.environ = REAL_ENVIRON
    boto3.DEFAULT_SESSION = None
    get_settings.cache_clear()
    aws.reset()
    secrets.forget_keys()


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

    # The password step counts its tries while it reads (two calls at once): one DynamoDB
    # request at a time, as DynamoDB applies them; transactions cost the same at any size.
    embedded_aws.adapt_moto()
    # Moto in this process is the local AWS the dev-only features require (Settings.local_endpoint).
    monkeypatch.setenv("LOCAL_AWS", "embedded")
    with mock_aws():
        push_settings = embedded_aws.provision(LOCAL_STAGE["TABLE_NAME"], LOCAL_STAGE["KMS_KEY_ID"],
                                               LOCAL_STAGE["MAIL_FROM"])
        for name, value in push_settings.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield


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
def cli(make_client):
    """The CLI: no browser headers, no cookies."""
    return make_client(origin=None)


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
def race(threaded_app):
    """tests/support/races.py's race(first, *others, pause_before=...): one request held at a
    point while the others run, on the app made ready for requests from two threads."""
    from tests.support.races import race

    return race


@pytest.fixture
def person(api, clock):
    """Alice, before she signs up."""
    return Person(api, clock)


@pytest.fixture
def alice(person):
    """Alice signed up and verified, with TOTP enrolled and a full session, verified 30 s
    ago (the clock moved past the code used at enrolment)."""
    return person.onboard()



@pytest.fixture
def faults(local_aws):
    """tests/support/faults.py installed on the app's AWS clients: inject a failure at the
    Nth call of a service, and see which calls a request made."""
    from tests.support.faults import Faults

    return Faults().install()


@pytest.fixture(scope="session")
def dynamodb_local():
    """DynamoDB Local, started when a test first asks for it, stopped at the session's end."""
    from tests.support.servers import real_server

    with real_server("dynamodb-local") as server:
        yield server


@pytest.fixture
def on_dynamodb_local(dynamodb_local, local_aws, monkeypatch):
    """The app in-process with DynamoDB on DynamoDB Local (KMS and SES stay on moto): a
    fresh table per test, made from the infra template."""
    import boto3

    from chalicelib import aws

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.url)
    boto3.DEFAULT_SESSION = None
    aws.reset()
    dynamodb = boto3.client("dynamodb")
    if LOCAL_STAGE["TABLE_NAME"] in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=LOCAL_STAGE["TABLE_NAME"])
    embedded_aws.provision(LOCAL_STAGE["TABLE_NAME"], LOCAL_STAGE["KMS_KEY_ID"], LOCAL_STAGE["MAIL_FROM"])
    yield dynamodb


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test's report says what the page showed, which of its requests the
    server had not answered or refused, and what the served API logged last."""
    outcome = yield
    report = outcome.get_result()
    tab = getattr(item, "funcargs", {}).get("tab")
    if report.when != "call" or not report.failed or not hasattr(tab, "describe"):
        return
    from tests.support.servers import log_tail

    report.sections.append(("browser", tab.describe()))
    report.sections.append(("served API's log (last lines)", log_tail(tab.origin)))
