"""Against real local servers: DynamoDB Local's own expression engine and TTL, and
LocalStack's CloudFormation with the infra template."""
import json
import time

import boto3
import pytest

from tests.support import PROJECT
from tests.support.journeys import Person, totp_code
from tests.support.servers import real_server
from tests.support.table import items_of

# One LocalStack at a time (they share build/localstack-root): these files run on one test worker.
pytestmark = pytest.mark.xdist_group("localstack")


@pytest.fixture(scope="session")
def localstack():
    with real_server("localstack") as server:
        yield server


@pytest.fixture
def ddb_person(on_dynamodb_local, make_client, clock):
    return Person(make_client(), clock)


def test_ttl_really_deletes_an_expired_session_that_was_already_refused(ddb_person, on_dynamodb_local, clock,
                                                                       monkeypatch):
    from chalicelib.config import get_settings

    clock.t = time.time()
    ddb_person.onboard()
    ddb_person.api.post("/v1/logout")
    # A web session that goes idle-expired 5 s from now (real time, which DynamoDB Local's TTL uses).
    monkeypatch.setenv("WEB_SESSION_IDLE_SECONDS", "5")
    get_settings.cache_clear()
    clock.t = time.time()
    # The next step's code: the current one was used at enrolment.
    assert ddb_person.login(totp_code(ddb_person.secret, clock.now() + 30)).status_code == 200

    clock.advance(6)  # the service's clock is past the expiry; DynamoDB Local's is not yet
    assert ddb_person.api.get("/v1/account").status_code == 401
    assert len(items_of(sk="SESSION")) == 1, "refused while the item is still in the table"
    deadline = time.monotonic() + 60
    while items_of(sk="SESSION") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert items_of(sk="SESSION") == [], "DynamoDB Local's TTL removed the expired session"
    assert items_of(sk="ACCOUNT")  # unexpired items stay


def test_same_totp_code_twice_at_once_on_dynamodb_local(ddb_person, make_client, clock, race):
    """Staged as in test_login: the first has checked the code and is about to record its use
    when the second verifies; DynamoDB Local's conditions decide."""
    from chalicelib import store

    ddb_person.onboard()
    second = ddb_person.in_another_browser(make_client())
    for round_ in range(3):
        clock.advance(30)
        code = totp_code(ddb_person.secret, clock.now())
        ids = [ddb_person.start_login(), second.start_login()]
        assert sorted(race(*[lambda p=p, i=i: p.verify(i, code).status_code for p, i in zip((ddb_person, second), ids)],
                           pause_before=(store, "transact"))) in ([200, 401], [200, 429])


def test_same_recovery_code_twice_at_once_on_dynamodb_local(ddb_person, make_client, clock, race):
    from chalicelib import store

    ddb_person.onboard()
    codes = ddb_person.api.post("/v1/account/recovery-codes").json
    second = ddb_person.in_another_browser(make_client())
    for code in codes["codes"][:3]:
        ids = [ddb_person.start_login(), second.start_login()]
        assert sorted(race(*[lambda p=p, i=i: p.verify(i, code, codes["method_id"]).status_code
                             for p, i in zip((ddb_person, second), ids)],
                           pause_before=(store, "transact"))) in ([200, 401], [200, 429])


def test_infra_template_deploys_on_localstack_cloudformation(localstack, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", localstack.url)
    boto3.DEFAULT_SESSION = None
    cloudformation = boto3.client("cloudformation")
    template = (PROJECT / "infra" / "template.json").read_text()
    stack = "mfa-stateful-test"
    cloudformation.create_stack(StackName=stack, TemplateBody=template,
                                # LocalStack's CloudFormation has no SES identity provider.
                                Parameters=[{"ParameterKey": "Stage", "ParameterValue": "dev"},
                                            {"ParameterKey": "ManageSenderIdentity", "ParameterValue": "false"}])
    cloudformation.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1,
                                                                                            "MaxAttempts": 120})
    resources = {r["LogicalResourceId"]: r for r in
                 cloudformation.describe_stack_resources(StackName=stack)["StackResources"]}
    assert {r["ResourceStatus"] for r in resources.values()} == {"CREATE_COMPLETE"}, resources
    dynamodb = boto3.client("dynamodb")
    assert resources["Table"]["PhysicalResourceId"] == "mfa-dev"
    table = dynamodb.describe_table(TableName="mfa-dev")["Table"]
    expected = json.loads(template)["Resources"]["Table"]["Properties"]
    assert table["KeySchema"] == expected["KeySchema"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["GSI1"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"]["StreamEnabled"] is True
    ttl = dynamodb.describe_time_to_live(TableName="mfa-dev")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    aliases = {a["AliasName"] for a in boto3.client("kms").list_aliases()["Aliases"]}
    assert "alias/mfa-dev" in aliases
    alarms = {a["AlarmName"]: a for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert alarms["mfa-dev-api-5xx"]["Dimensions"] == [{"Name": "Stage", "Value": "dev"}]
    assert alarms["mfa-dev-outbox-dead-letters"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    cloudformation.delete_stack(StackName=stack)
