"""Exact IAM: each Lambda function's policy (.chalice/policy-*.json, from infra/policies.py)
grants what its code calls and nothing more, on the stage's own resources.

The calls are recorded, not listed by hand: every route and handler is driven through the
journeys of tests/support/ with the app's AWS clients recording each call by function
(tests/support/iam.py), as the deployed stages run (notices delivered by the stream consumer,
fed the table's stream after each request). Scheduled functions run once at the end, with a
notice left undelivered an hour earlier. The recorded actions are compared with each function's
policy both ways, and each recorded call must be allowed on the resource it names.
"""
import json
import re

import boto3
import pytest

from infra import policies
from tests.support import LOCAL_STAGE, PROJECT
from tests.support.http import ApiClient
from tests.support.iam import API_HANDLER, Need, Recorder, allowing, lambda_functions
from tests.support.journeys import Person, mailbox, token_in, totp_code
from tests.support.phone import Phone, pair_phone, start_push_login
from tests.support.soft_authenticator import SoftAuthenticator
from tests.support.sso import add_connection

CONFIG = json.loads((PROJECT / ".chalice" / "config.json").read_text())
# Routes the journeys cannot reach here: an identity provider's answer needs the IdP itself
# (tests/test_sso_saml.py, tests/test_sso_oidc.py run them against real ones).
NOT_DRIVEN = {
    ("GET", "/v1/sso/{connection_id}/oidc/callback"): "needs an OpenID provider's authorization code",
    ("POST", "/v1/sso/{connection_id}/saml/acs"): "needs a SAML IdP's signed response",
    ("POST", "/v1/account/step-up/sso"): "needs a session logged in through an identity provider",
}
# Routes whose only answer is a refusal.
ALWAYS_REFUSED = {("POST", "/v1/account/methods/sms")}
SMS_PHONE = "+14155550123"


class StreamPump:
    """The deployed stages' delivery: the stream consumer, invoked with the table's new stream
    records after each request, as Lambda's event source mapping would."""

    def __init__(self, app_module):
        self.app_module = app_module
        # botocore sends ARN-bearing calls to an account-specific host moto does not route.
        self.streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
        table = boto3.client("dynamodb").describe_table(TableName=LOCAL_STAGE["TABLE_NAME"])["Table"]
        self.stream_arn = stream_arn = table["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                                        ShardIteratorType="LATEST")["ShardIterator"]

    paused = False

    def _as_lambda_gives_it(self, record: dict) -> dict:
        """A DynamoDB Streams record as Lambda's event has it (its source ARN, times in epoch seconds)."""
        stream = {k: (v.timestamp() if hasattr(v, "timestamp") else v) for k, v in record["dynamodb"].items()}
        return {**record, "eventSourceARN": self.stream_arn, "dynamodb": stream}

    def pump(self) -> None:
        if self.paused:
            return
        answer = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        records = [self._as_lambda_gives_it(record) for record in answer["Records"]]
        if records:
            self.app_module.outbox_delivery({"Records": records}, None)


# One recording per test process: the journeys are long, the tests below only read it.
pytestmark = pytest.mark.xdist_group("iam")
_RECORDING = {}


@pytest.fixture
def recorded(request):
    """Every route and handler driven once, as the deployed stages run: (recorder, the routes
    answered with a success)."""
    if not _RECORDING:
        _RECORDING["done"] = request.getfixturevalue("_record")
    return _RECORDING["done"]


@pytest.fixture
def _record(app_module, make_client, clock, monkeypatch):
    from chalicelib.config import get_settings
    from chalicelib.ledger import secrets

    monkeypatch.setattr("chalicelib.ledger.outbox.get_settings",
                        lambda: get_settings().replace(outbox_delivery="stream"))
    monkeypatch.setenv("OPTIONAL_METHODS", "email_code")
    get_settings.cache_clear()
    recorder = Recorder(app_module.app, LOCAL_STAGE["KMS_KEY_ID"]).install(monkeypatch)
    pump = StreamPump(app_module)
    answered = set()
    request = ApiClient.request

    def request_and_deliver(self, method, path, *args, **kwargs):
        # Any request, and any batch of the stream, may land on a cold container: one that must
        # unwrap its data key again (a warm one makes no KMS call).
        secrets.forget_keys()
        response = request(self, method, path, *args, **kwargs)
        if response.status_code < 400:
            answered.add((method, path.split("?")[0]))
        secrets.forget_keys()
        pump.pump()
        return response

    monkeypatch.setattr(ApiClient, "request", request_and_deliver)
    _drive_every_route(make_client, clock)
    _run_scheduled_functions(app_module, make_client(), clock, pump)
    return recorder, answered


def _drive_every_route(make_client, clock):
    clock.t = 1622548800   # 2021-06-01: legacy SMS still works (its sunset is 2021-11-30)
    api = make_client()
    alice = Person(api, clock)
    alice.onboard()
    api.get("/openapi.json")
    api.get("/v1/account")
    api.post("/v1/accounts/verification-email", {"email": "nobody-yet@example.com"})
    _recovery_codes_and_events(alice)
    _email_code(alice)
    _webauthn(alice)
    _push(alice, make_client(origin=None))
    _sms(alice)
    _sessions_and_cli(alice, make_client)
    _sso(make_client())
    _password(alice, make_client)
    _email_change_and_deletion(alice, make_client)


def _recovery_codes_and_events(alice):
    api = alice.api
    assert alice.step_up().status_code == 200
    generated = api.post("/v1/account/recovery-codes", {})
    assert generated.status_code == 201, generated.json
    assert api.get("/v1/account/events").status_code == 200
    assert api.request("PATCH", f"/v1/account/methods/{alice.method_id}", {"label": "Renamed"}).status_code == 200
    # A second TOTP app through the generic start, removed again.
    alice.step_up()
    started = api.post("/v1/account/methods", {"type": "totp", "label": "Spare"})
    assert started.status_code == 201, started.json
    login_id = alice.start_login()
    assert api.post(f"/v1/login/{login_id}/challenges", {"method_id": alice.method_id}).status_code == 201
    alice.clock.advance(30)
    verified = alice.verify(login_id, totp_code(alice.secret, alice.clock.now()))
    assert verified.status_code == 200, verified.json
    alice.clock.advance(30)
    recovery = api.post("/v1/login/" + alice.start_login() + "/verify",
                        {"method_id": generated.json["method_id"], "code": generated.json["codes"][0]})
    assert recovery.status_code == 200, recovery.json


def _email_code(alice):
    api = alice.api
    alice.step_up()
    started = api.post("/v1/account/methods", {"type": "email_code"})
    assert started.status_code == 201, started.json
    code = re.search(r"\b(\d{6})\b", mailbox(api, alice.email, "Your verification code")[0]["text"]).group(1)
    assert api.post(f"/v1/account/methods/{started.json['method_id']}/confirm", {"code": code}).status_code == 200
    alice.clock.advance(30)
    assert api.post("/v1/account/step-up/challenges", {"method_id": started.json["method_id"]}).status_code == 201


def _webauthn(alice):
    api = alice.api
    key = SoftAuthenticator("cross-platform")
    alice.step_up()
    options = api.post("/v1/account/methods/webauthn/options", {"type": "security_key", "label": "Key"})
    assert options.status_code == 200, options.json
    registered = api.post("/v1/account/methods/webauthn", {"credential": key.create(options.json["public_key"])})
    assert registered.status_code == 201, registered.json
    login_id = alice.start_login()
    login_options = api.post(f"/v1/login/{login_id}/webauthn/options")
    assert login_options.status_code == 200, login_options.json
    verified = api.post(f"/v1/login/{login_id}/verify", {"credential": key.get(login_options.json["public_key"])})
    assert verified.status_code == 200, verified.json
    step_up = api.post("/v1/account/step-up/webauthn/options")
    assert step_up.status_code == 200, step_up.json
    assert api.post("/v1/account/step-up", {"credential": key.get(step_up.json["public_key"])}).status_code == 200
    method_id = registered.json["method"]["id"]
    assert api.delete(f"/v1/account/methods/{method_id}", {"confirm": True}).status_code == 200


def _push(alice, device_client):
    api = alice.api
    alice.step_up()
    phone = Phone(device_client, alice.clock)
    alice.push_method = pair_phone(alice, phone)
    alice.clock.advance(30)
    login_id, pushed = start_push_login(alice)
    assert api.get(f"/v1/login/{login_id}").status_code == 200
    assert phone.challenges().status_code == 200
    assert phone.answer(pushed["challenge_id"], "approve", pushed["number"]).status_code == 200
    assert api.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]}).status_code == 200
    # Withdrawn pushes, at login and at step-up; a step-up answered.
    login_id, pushed = start_push_login(alice)
    assert api.delete(f"/v1/login/{login_id}/push/{pushed['challenge_id']}").status_code == 200
    step_up = api.post("/v1/account/step-up/push", {"method_id": alice.push_method["id"]})
    assert step_up.status_code == 201, step_up.json
    assert api.get(f"/v1/account/step-up/push/{step_up.json['challenge_id']}").status_code == 200
    assert api.delete(f"/v1/account/step-up/push/{step_up.json['challenge_id']}").status_code == 200
    assert phone.signed("PUT", f"/v1/devices/{phone.device_id}/push-token", {"push_token": "new-token"}).status_code == 200
    assert phone.signed("DELETE", f"/v1/devices/{phone.device_id}").status_code == 200


def _sms(alice):
    import sys

    sys.path.insert(0, str(PROJECT / "ops"))
    import import_legacy_sms

    api = alice.api
    assert api.post("/v1/account/methods/sms").status_code == 410
    assert import_legacy_sms.main([alice.email, SMS_PHONE, "--label", "Old phone", "--enabled-on", "2020-03-01"]) == 0
    sms = next(m for m in api.get("/v1/account/methods").json["methods"] if m["type"] == "sms")
    login_id = alice.start_login()
    assert api.post(f"/v1/login/{login_id}/sms", {"method_id": sms["id"]}).status_code == 201
    alice.clock.advance(30)
    assert alice.step_up().status_code == 200
    assert api.post("/v1/account/step-up/sms", {"method_id": sms["id"]}).status_code == 201


def _sessions_and_cli(alice, make_client):
    api = alice.api
    other = alice.in_another_browser(make_client())
    alice.clock.advance(30)
    assert other.login().status_code == 200
    alice.step_up()
    sessions = api.get("/v1/account/sessions")
    assert sessions.status_code == 200
    others = [s["id"] for s in sessions.json["sessions"] if not s.get("current")]
    assert api.delete(f"/v1/account/sessions/{others[0]}").status_code == 200
    assert api.delete("/v1/account/sessions?scope=others").status_code == 200
    cli = make_client(origin=None)
    started = cli.post("/v1/cli/logins", {"client_name": "tests"}, browser=False).json
    assert api.get(f"/v1/cli/logins/{started['user_code']}").status_code == 200
    alice.step_up()
    assert api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"}).status_code == 200
    token = cli.post("/v1/cli/logins/token", {"device_code": started["device_code"]}, browser=False)
    assert token.status_code == 200, token.json
    bearer = {"Authorization": f"Bearer {token.json['access_token']}"}
    assert cli.post("/v1/logout", headers=bearer, browser=False).status_code == 200


def _sso(api):
    connection = add_connection("sso.example", protocol="saml")
    assert api.post("/v1/sso/start", {"email": "pat@sso.example"}).status_code == 200
    assert api.get(f"/v1/sso/{connection['connection_id']}/saml/metadata").status_code == 200


def _password(alice, make_client):
    api = alice.api
    alice.step_up()
    changed = api.post("/v1/account/password", {"current_password": alice.password, "new_password": "another fine passphrase 7"})
    assert changed.status_code == 200, changed.json
    alice.password = "another fine passphrase 7"
    anonymous = make_client()
    assert anonymous.post("/v1/password-resets", {"email": alice.email}).status_code == 202
    token = token_in(mailbox(anonymous, alice.email, "Reset your password")[0]["links"][0])
    alice.password = "a third good passphrase 9"
    assert anonymous.post("/v1/password-resets/confirm", {"token": token, "new_password": alice.password}).status_code == 200
    alice.clock.advance(30)
    assert alice.login().status_code == 200


def _email_change_and_deletion(alice, make_client):
    api = alice.api
    alice.step_up()
    assert api.post("/v1/account/email", {"new_email": "alice.new@example.com"}).status_code == 202
    token = token_in(mailbox(api, "alice.new@example.com")[0]["links"][0])
    assert make_client().post("/v1/account/email/confirm", {"token": token}).status_code == 200
    alice.email = "alice.new@example.com"
    alice.clock.advance(30)
    assert alice.login().status_code == 200
    alice.step_up()
    assert api.delete("/v1/account", {"confirm": True}).status_code == 200


def _run_scheduled_functions(app_module, api, clock, pump):
    """Each @app.schedule function once, in a cold container, an hour after notices the stream
    did not deliver (a sweeper has something overdue to send, a sealed link among them)."""
    from chalicelib.ledger import secrets

    bob = Person(api, clock, email="bob@example.com").onboard()
    pump.paused = True
    assert api.request("PATCH", f"/v1/account/methods/{bob.method_id}", {"label": "Undelivered"}).status_code == 200
    assert api.post("/v1/accounts", {"email": "carol@example.com", "password": "a long enough password"}).status_code == 202
    secrets.forget_keys()
    clock.advance(3600)
    app = app_module.app
    for source in app.event_sources:
        if type(source).__name__ in ("ScheduledEventConfig", "CloudWatchEventConfig"):
            app.handler_map[source.name]({
                "version": "0", "id": "iam-recording", "detail-type": "Scheduled Event", "source": "aws.events",
                "account": "123456789012", "time": "2021-06-01T12:00:00Z", "region": "us-east-1",
                "resources": [], "detail": {}}, None)


def _route_pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


def test_every_route_is_driven(recorded, app_module):
    _, answered = recorded
    routes = {(method, path) for path, entries in app_module.app.routes.items() for method in entries
              if method != "OPTIONS" and not path.startswith("/_dev/")}
    missed = {route for route in routes - set(NOT_DRIVEN) - ALWAYS_REFUSED
              if not any(m == route[0] and _route_pattern(route[1]).match(p) for m, p in answered)}
    assert not missed, f"routes the IAM recording never answered with a success: {sorted(missed)}"


def test_every_function_is_run_and_has_its_own_policy(recorded, app_module):
    recorder, _ = recorded
    functions = lambda_functions(app_module.app)
    assert functions == set(policies.FUNCTIONS), (
        f"functions without their own policy in infra/policies.py: {sorted(functions - set(policies.FUNCTIONS))}; "
        f"policies of no function: {sorted(set(policies.FUNCTIONS) - functions)}")
    silent = {f for f in functions if not recorder.actions(f)}
    assert not silent, f"functions the recording never ran (drive them in tests/test_iam.py): {sorted(silent)}"


def _code_actions(policy: dict) -> set[str]:
    return {action for statement in policy["Statement"] if statement["Sid"] not in policies.RUNTIME_STATEMENTS
            for action in statement["Action"]}


def _expected_actions(recorder: Recorder, stage: str, function: str) -> set[str]:
    expected = recorder.actions(function)
    inline = CONFIG["stages"][stage]["environment_variables"].get("OUTBOX_DELIVERY") == "inline"
    if function == API_HANDLER and inline:
        expected |= recorder.actions(policies.INLINE_DELIVERY)
    return expected


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_each_policy_grants_exactly_the_actions_its_function_calls(recorded, stage):
    recorder, _ = recorded
    problems = []
    for function in policies.FUNCTIONS:
        policy = json.loads((PROJECT / ".chalice" / policies.policy_file(stage, function)).read_text())
        granted, called = _code_actions(policy), _expected_actions(recorder, stage, function)
        problems += [f"{stage} {function}: missing {action}" for action in sorted(called - granted)]
        problems += [f"{stage} {function}: unused {action}" for action in sorted(granted - called)]
    assert not problems, "\n".join(problems)


def test_every_call_is_allowed_on_the_resource_it_names(recorded):
    """On the local stage's resources (the only ones the recording has): each call's table,
    index, key alias, sender identity, platform application or endpoint is one the policy names."""
    recorder, _ = recorded
    refused = []
    for need in sorted(recorder.needs, key=lambda n: (n.function, n.action, n.resource)):
        functions = [need.function] + ([API_HANDLER] if need.function == policies.INLINE_DELIVERY else [])
        for function in functions:
            policy = json.loads((PROJECT / ".chalice" / policies.policy_file("local", function)).read_text())
            if not allowing(policy, Need(function, need.action, need.resource, need.context)):
                refused.append(f"local {function}: {need.action} on {need.resource} {need.context_dict()} ({need.call})")
    assert not refused, "\n".join(refused)


def test_runtime_statements_are_where_lambda_needs_them(app_module):
    """Logs in every function, on its own log group; the stream only for the stream consumer."""
    template = json.loads((PROJECT / "infra" / "app.json").read_text())["Resources"]
    consumers = {s.name for s in app_module.app.event_sources if type(s).__name__ == "DynamoDBEventConfig"}
    for function in app_module.app.pure_lambda_functions:   # wired in infra/app.json, by Chalice's logical id
        events = template.get("".join(part.title() for part in function.name.split("_")), {})
        if any(e["Type"] == "DynamoDB" for e in events.get("Properties", {}).get("Events", {}).values()):
            consumers.add(function.name)
    assert consumers == {"outbox_delivery"}
    for stage in CONFIG["stages"]:
        for function in policies.FUNCTIONS:
            policy = json.loads((PROJECT / ".chalice" / policies.policy_file(stage, function)).read_text())
            by_sid = {s["Sid"]: s for s in policy["Statement"]}
            assert by_sid["Logs"]["Resource"][0].endswith(f"/aws/lambda/{policies.function_name(stage, function)}")
            assert ("TableStream" in by_sid) == (function in consumers), (stage, function)


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_resources_are_the_stages_own(stage):
    """No statement reaches another stage's or the account's other tables, keys, identities,
    platform applications or endpoints; no action is a wildcard."""
    sender = CONFIG["stages"][stage]["environment_variables"]["MAIL_FROM"].split("@")[1]
    own = (f":table/mfa-{stage}", f"/mfa-{stage}-apns", f"/mfa-{stage}-gcm", f":identity/{sender}",
           f"/aws/lambda/mfa-service-{stage}",
           f":mfa-{stage}-outbox-dead-letters")
    for function in policies.FUNCTIONS:
        policy = json.loads((PROJECT / ".chalice" / policies.policy_file(stage, function)).read_text())
        for statement in policy["Statement"]:
            assert not any("*" in action for action in statement["Action"]), statement
            if "NotResource" in statement:
                assert statement["NotResource"] == "arn:aws:sns:*:*:*" and statement["Action"] == ["sns:Publish"]
                continue
            for resource in ([statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]):
                if resource.startswith("arn:aws:kms:"):
                    assert statement["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/mfa-{stage}"}}
                else:
                    assert any(part in resource for part in own), f"{stage} {function}: {resource}"


def test_the_stateful_stack_has_no_unattached_policy():
    template = json.loads((PROJECT / "infra" / "template.json").read_text())
    assert not [name for name, resource in template["Resources"].items() if resource["Type"].startswith("AWS::IAM::")]

