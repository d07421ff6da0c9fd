"""The ops deploy against LocalStack: `make infra`'s stateful stack, `chalice deploy --stage
local-e2e` and `python -m infra.finish_deploy --stage local-e2e`, then what they created (the
REST API and its routes, the Lambdas with the stage's environment and role, the stream mapping
with its filter and dead-letter queue, the request limits), then `chalice delete`.

LocalStack runs without Docker here, and its Lambda runs functions only in Docker: the functions
are created and Active (localdev/servers.py) but cannot be invoked. Their handlers are invoked
outside Lambda instead, with the deployed functions' environment, against the same LocalStack
table, stream and SES: the API handler in this process, the outbox handler in a Python process
that imports the deployed copy's app.py as Lambda would (with its stream mapping declared).

The project is deployed from a copy (chalice writes .chalice/deployed/, `make infra` writes the
stage's outputs into .chalice/config.json) with an empty requirements.txt: downloading the
Lambda wheels would take longer than the rest, and tests/test_package.py proves the zip with
them runs on Python 3.12. The copy holds every folder of the checkout, so the zip Chalice
deployed is seen to leave out the ones only for development, tests and ops.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile

import boto3
import pytest

from tests.support import PROJECT
from tests.support.servers import real_server

# One LocalStack at a time (they share build/localstack-root): these files run on one test worker.
pytestmark = pytest.mark.xdist_group("localstack")

STAGE = "local-e2e"
API_FUNCTION = f"mfa-service-{STAGE}"
OUTBOX_FUNCTION = f"mfa-service-{STAGE}-outbox_delivery"
SWEEPER_FUNCTION = f"mfa-service-{STAGE}-outbox_sweeper"
CHALICE = os.path.join(os.path.dirname(sys.executable), "chalice")
# The checkout's folders that are not the Lambda's code: none may be in its zip.
NOT_DEPLOYED = ("localdev", "tests", "bench", "ops", "infra", "clients")


def _matches(pattern: str, record: dict) -> bool:
    """Lambda's event filtering of a stream record (moto implements the same pattern language)."""
    from moto.events.models import EventPattern

    return EventPattern.load(pattern).matches_event(record)


@pytest.fixture(scope="module")
def localstack():
    with real_server("localstack") as server:
        yield server


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    copy = tmp_path_factory.mktemp("deploy") / "project"
    for folder in ("chalicelib", *NOT_DEPLOYED):
        shutil.copytree(PROJECT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ".chalice").mkdir()
    for config in (PROJECT / ".chalice").glob("*.json"):
        shutil.copy(config, copy / ".chalice" / config.name)
    shutil.copy(PROJECT / "app.py", copy / "app.py")
    (copy / "requirements.txt").write_text("")
    return copy


@pytest.fixture(scope="module")
def aws_env(localstack):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(AWS_ENDPOINT_URL=localstack.url, AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="test",
                       AWS_SECRET_ACCESS_KEY="test")
    return environment


def _run(command: list[str], project, aws_env) -> str:
    result = subprocess.run(command, cwd=project, env=aws_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def deployed(project, aws_env):
    """The two documented commands (and the post-deploy step) as ops run them."""
    # LocalStack's CloudFormation has no SES identity resource (MANAGE_SENDER_IDENTITY=false).
    _run([sys.executable, "-m", "infra.stateful", "--stage", STAGE, "--no-sender-identity"], project, aws_env)
    _run([CHALICE, "deploy", "--stage", STAGE], project, aws_env)
    _run([sys.executable, "-m", "infra.finish_deploy", "--stage", STAGE], project, aws_env)
    return json.loads((project / ".chalice" / "config.json").read_text())["stages"][STAGE]["environment_variables"]


@pytest.fixture(scope="module")
def aws(aws_env):
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    return lambda service: session.client(service, endpoint_url=aws_env["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def stack_outputs(deployed, aws):
    stack = aws("cloudformation").describe_stacks(StackName=f"mfa-{STAGE}-stateful")["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def _rest_api_id(aws) -> str:
    return next(api["id"] for api in aws("apigateway").get_rest_apis()["items"] if api["name"] == "mfa-service")


def test_outbox_filter_lets_through_only_new_notices():
    from chalicelib import store
    from infra.finish_deploy import outbox_filter

    pattern = outbox_filter()["Filters"][0]["Pattern"]
    item = store.op_put_notice("0123456789abcdef0123456789abcdef", {"to": "a@example.com", "created_at": 0})["Put"]["Item"]
    notice_keys = {"PK": item["PK"], "SK": item["SK"]}
    assert _matches(pattern, {"eventName": "INSERT", "dynamodb": {"Keys": notice_keys}})
    assert not _matches(pattern, {"eventName": "REMOVE", "dynamodb": {"Keys": notice_keys}})
    assert not _matches(pattern, {"eventName": "MODIFY", "dynamodb": {"Keys": notice_keys}})
    session_keys = {"PK": {"S": "SESSION#abc"}, "SK": {"S": "SESSION"}}
    assert not _matches(pattern, {"eventName": "INSERT", "dynamodb": {"Keys": session_keys}})


@pytest.mark.parametrize("environment, refusal", [
    ({}, "OUTBOX_STREAM_ARN is missing"),
    ({"OUTBOX_STREAM_ARN": "arn:old"}, "the table's stream is arn:new"),
    ({"OUTBOX_STREAM_ARN": "arn:new", "OUTBOX_DEAD_LETTER_QUEUE_URL": "https://old"}, "not the stack's queue"),
])
def test_finish_deploy_refuses_a_stage_not_wired_to_its_stateful_stack(environment, refusal):
    """Deployed before `make infra` recorded the stream (the outbox Lambda is not mapped), or
    with a stream or queue the stateful stack no longer has: refused, nothing changed."""
    from infra import finish_deploy, stateful

    resources = {"outbox_delivery": {"lambda_arn": "arn:function"}}
    if environment:
        resources["outbox_delivery-dynamodb-event-source"] = {
            "stream_arn": environment["OUTBOX_STREAM_ARN"], "event_uuid": "u", "lambda_arn": "arn:function"}
    outputs = {"TableStreamArn": "arn:new", "OutboxDeadLetterQueueUrl": "https://new", "OutboxDeadLetterQueueArn": "q"}
    with pytest.raises(stateful.DeployError, match=refusal):
        finish_deploy.finish_outbox(lambda_client=None, stage="prod", resources=resources, outputs=outputs,
                                    environment=environment)


def test_the_stage_records_the_stateful_stacks_outputs(deployed, stack_outputs):
    assert deployed["OUTBOX_STREAM_ARN"] == stack_outputs["TableStreamArn"]
    assert deployed["OUTBOX_DEAD_LETTER_QUEUE_URL"] == stack_outputs["OutboxDeadLetterQueueUrl"]
    assert ":table/mfa-local-e2e/stream/" in deployed["OUTBOX_STREAM_ARN"]


def test_make_infra_again_changes_nothing(deployed, project, aws_env):
    config = (project / ".chalice" / "config.json").read_text()
    output = _run([sys.executable, "-m", "infra.stateful", "--stage", STAGE, "--no-sender-identity"], project, aws_env)
    assert "up to date" in output and "OUTBOX_STREAM_ARN" not in output
    assert (project / ".chalice" / "config.json").read_text() == config


def test_rest_api_serves_every_route(deployed, aws):
    import app

    apigateway = aws("apigateway")
    resources = apigateway.get_resources(restApiId=_rest_api_id(aws), limit=500)["items"]
    served = {(resource["path"], method) for resource in resources for method in resource.get("resourceMethods", {})}
    declared = {(path, method) for path, methods in app.app.routes.items() for method in methods}
    assert declared and declared <= served, declared - served


def test_lambdas_have_the_stages_environment_and_role(deployed, aws, project):
    lambda_client, iam = aws("lambda"), aws("iam")
    for name, handler, policy_file in ((API_FUNCTION, "app.app", "policy-local-e2e.json"),
                                       (OUTBOX_FUNCTION, "app.outbox_delivery", "policy-local-e2e-outbox_delivery.json"),
                                       (SWEEPER_FUNCTION, "app.outbox_sweeper", "policy-local-e2e-outbox_sweeper.json")):
        policy = json.loads((project / ".chalice" / policy_file).read_text())
        function = lambda_client.get_function_configuration(FunctionName=name)
        assert function["State"] == "Active"
        assert (function["Runtime"], function["Handler"]) == ("python3.12", handler)
        assert function["Environment"]["Variables"] == deployed
        role = function["Role"].rsplit("/", 1)[1]
        policies = iam.list_role_policies(RoleName=role)["PolicyNames"]
        assert [iam.get_role_policy(RoleName=role, PolicyName=p)["PolicyDocument"] for p in policies] == [policy]


def test_the_deployed_zip_holds_the_app_and_nothing_only_for_development(deployed, aws, project):
    """The zip `chalice deploy` built (.chalice/deployments/) is the code every function runs,
    and of the checkout it holds app.py and chalicelib/ alone: no local-stage module (the dev
    mailbox and SNS log live in localdev/), no tests, tools or infrastructure code."""
    packages = sorted((project / ".chalice" / "deployments").glob("*.zip"))
    assert len(packages) == 1, packages
    code = packages[0].read_bytes()
    code_sha256 = base64.b64encode(hashlib.sha256(code).digest()).decode()
    for name in (API_FUNCTION, OUTBOX_FUNCTION, SWEEPER_FUNCTION):
        assert aws("lambda").get_function_configuration(FunctionName=name)["CodeSha256"] == code_sha256, name
    with zipfile.ZipFile(packages[0]) as archive:
        names = archive.namelist()
    assert "app.py" in names and "chalicelib/api/dev.py" in names and "chalicelib/store/__init__.py" in names
    assert all((project / folder).is_dir() for folder in NOT_DEPLOYED), "the copy holds them: Chalice left them out"
    shipped = [name for name in names if name.startswith(tuple(f"{folder}/" for folder in NOT_DEPLOYED))
               or name.startswith("chalicelib/dev/")]
    assert shipped == []


def test_stream_maps_to_the_outbox_lambda_with_its_filter_retries_and_dead_letter_queue(deployed, aws, stack_outputs):
    from infra.finish_deploy import outbox_filter

    mappings = aws("lambda").list_event_source_mappings(FunctionName=OUTBOX_FUNCTION)["EventSourceMappings"]
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["EventSourceArn"] == stack_outputs["TableStreamArn"]
    assert (mapping["BatchSize"], mapping["StartingPosition"]) == (10, "TRIM_HORIZON")
    assert (mapping["MaximumRetryAttempts"], mapping["MaximumRecordAgeInSeconds"],
            mapping["BisectBatchOnFunctionError"]) == (185, 86400, True)
    assert mapping["FilterCriteria"] == outbox_filter()
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == stack_outputs["OutboxDeadLetterQueueArn"]
    attributes = aws("sqs").get_queue_attributes(QueueUrl=deployed["OUTBOX_DEAD_LETTER_QUEUE_URL"],
                                                 AttributeNames=["QueueArn"])["Attributes"]
    assert attributes["QueueArn"] == stack_outputs["OutboxDeadLetterQueueArn"]


def test_request_limits_and_gateway_errors_are_in_force(deployed, aws):
    apigateway = aws("apigateway")
    rest_api_id = _rest_api_id(aws)
    settings = apigateway.get_stage(restApiId=rest_api_id, stageName="api")["methodSettings"]["*/*"]
    limits = json.loads((PROJECT / "infra" / "app.json").read_text())["Mappings"]["Throttling"][STAGE]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (limits["RateLimit"],
                                                                                   limits["BurstLimit"])
    throttled = apigateway.get_gateway_response(restApiId=rest_api_id, responseType="THROTTLED")
    assert throttled["statusCode"] == "429"
    assert json.loads(throttled["responseTemplates"]["application/json"])["error"] == "rate_limited"


def _api_event(method: str, path: str, body: dict | None = None) -> dict:
    return {"resource": path, "path": path, "httpMethod": method, "headers": {"content-type": "application/json"},
            "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": None, "stageVariables": None, "body": json.dumps(body) if body else None,
            "isBase64Encoded": False,
            "requestContext": {"resourcePath": path, "httpMethod": method, "stage": "api",
                               "identity": {"sourceIp": "192.0.2.1"}}}


def _stream_records(aws, stream_arn: str, until) -> list[dict]:
    streams = aws("dynamodbstreams")
    deadline = time.monotonic() + 30
    while True:
        records = []
        for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            # As Lambda passes them: the creation time in epoch seconds, not a datetime.
            records += json.loads(json.dumps(streams.get_records(ShardIterator=iterator)["Records"],
                                             default=lambda when: when.timestamp()))
        if until(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.5)


# The outbox Lambda's code path: the deployed copy's app.py imported with the function's
# environment, as Lambda does, so its handler is the one Chalice's stream mapping calls.
INVOKE_OUTBOX = """
import json, sys
import app
assert [source.name for source in app.app.event_sources if type(source).__name__ == "DynamoDBEventConfig"] == ["outbox_delivery"]
print(json.dumps(app.outbox_delivery(json.load(sys.stdin), None)))
"""


def _invoke_outbox(aws, aws_env, project, event: dict) -> dict:
    variables = aws("lambda").get_function_configuration(FunctionName=OUTBOX_FUNCTION)["Environment"]["Variables"]
    result = subprocess.run([sys.executable, "-c", INVOKE_OUTBOX], cwd=project, env={**aws_env, **variables},
                            input=json.dumps(event), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_handlers_in_process_with_the_deployed_environment(deployed, aws, aws_env, project, monkeypatch):
    """The API handler answers and writes to the stage's table; the stream carries its writes and
    a notice; the deployed filter passes only the notice, which the outbox handler mails once."""
    import app
    from chalicelib import aws as service_aws
    from chalicelib import store
    from chalicelib.config import get_settings
    from chalicelib.ledger import outbox
    from chalicelib.records import Client

    variables = aws("lambda").get_function_configuration(FunctionName=API_FUNCTION)["Environment"]["Variables"]
    for name, value in {**variables, **{k: v for k, v in aws_env.items() if k.startswith("AWS_")}}.items():
        monkeypatch.setenv(name, value)
    boto3.DEFAULT_SESSION = None
    service_aws.reset()
    get_settings.cache_clear()
    aws("ses").verify_domain_identity(Domain=variables["MAIL_FROM"].split("@")[1])

    assert app.app(_api_event("GET", "/openapi.json"), None)["statusCode"] == 200
    signup = app.app(_api_event("POST", "/v1/accounts", {"email": "ops@example.com",
                                                       "password": "a long enough passphrase 42"}), None)
    assert signup["statusCode"] == 202, signup
    notice_id, put_notice = outbox.notice("ops@example.com", "method_added", Client(ip="192.0.2.1", user_agent="t"),
                                          method_type="authenticator app", label="ops phone")
    store.transact([put_notice])

    mapping = aws("lambda").list_event_source_mappings(FunctionName=OUTBOX_FUNCTION)["EventSourceMappings"][0]
    pattern = mapping["FilterCriteria"]["Filters"][0]["Pattern"]
    records = _stream_records(aws, variables["OUTBOX_STREAM_ARN"],
                              until=lambda found: any(_matches(pattern, record) for record in found))
    passed = [record for record in records if _matches(pattern, record)]
    assert len(records) > len(passed), "the sign-up's own writes are on the stream, and filtered out"
    assert [store.notice_id_from_stream_keys(record["dynamodb"]["Keys"]) for record in passed
            if store.notice_id_from_stream_keys(record["dynamodb"]["Keys"]) == notice_id] == [notice_id]

    event = {"Records": passed}
    assert _invoke_outbox(aws, aws_env, project, event)["delivered"] >= 1
    assert _invoke_outbox(aws, aws_env, project, event) == {"delivered": 0}, "a redelivered batch mails nothing twice"
    now = int(time.time())
    assert store.claim_notice(notice_id, "after-delivery", now, now + 60) is None, "delivered, so gone"
    with urllib.request.urlopen(aws_env["AWS_ENDPOINT_URL"] + "/_aws/ses", timeout=5) as response:
        sent = json.load(response)["messages"]
    assert any("ops@example.com" in message.get("RawData", "") and "method was added" in message.get("RawData", "")
               for message in sent)


def test_chalice_delete_removes_the_stage(deployed, project, aws_env, aws):
    _run([CHALICE, "delete", "--stage", STAGE], project, aws_env)
    names = {function["FunctionName"] for function in aws("lambda").list_functions()["Functions"]}
    assert not names & {API_FUNCTION, OUTBOX_FUNCTION}
    # Lambda deletes a mapping asynchronously: "Deleting", then gone. (LocalStack keeps it
    # "Deleting" while its poller still retries the notice the Docker-less function never took.)
    mappings = aws("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert {mapping["State"] for mapping in mappings} <= {"Deleting"}
    assert "mfa-service" not in {api["name"] for api in aws("apigateway").get_rest_apis()["items"]}
    roles = {role["RoleName"] for role in aws("iam").list_roles()["Roles"]}
    assert not {role for role in roles if role.startswith(f"mfa-service-{STAGE}")}
