"""What each step of a login costs in AWS calls, with in-process moto: DynamoDB calls and
round trips (calls that overlap in time wait once), KMS and SES calls, and the DynamoDB
write and read request units of the items actually written and read.

Units follow DynamoDB's on-demand rules: a write is 1 WRU per started KiB of the larger of
the item before and after (a condition check too), doubled inside a transaction; a read is
1 RRU per started 4 KiB (strongly consistent), half eventually consistent, doubled inside a
transaction; a query is charged on the total size it returned.
"""
import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
STAGE = json.loads((PROJECT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]
HEADERS = {"content-type": "application/json", "origin": "http://localhost:8000", "x-requested-with": "bench"}
# Each DynamoDB call waits this long, as over a network: calls made side by side then
# overlap for sure, however fast in-process moto answers.
NETWORK_SECONDS = 0.01
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass
class StepCost:
    name: str
    status: int
    dynamodb: int = 0
    round_trips: int = 0
    kms: int = 0
    ses: int = 0
    wru: float = 0.0
    rru: float = 0.0
    calls: dict = field(default_factory=dict)


def _round_trips(spans: list[tuple[float, float]]) -> int:
    """Calls that overlap in time are one wait: count the groups of overlapping spans."""
    trips, end = 0, -math.inf
    for started, finished in sorted(spans):
        if started >= end:
            trips += 1
            end = finished
        else:
            end = max(end, finished)
    return trips


def _item_size(item: dict | None) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return sum(len(name.encode()) + DynamoType(value).size() for name, value in (item or {}).items())


class Meter:
    """Hooks on the app's boto3 clients that record each call of the current step."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.spans, self.counts, self.wru, self.rru = [], {}, 0.0, 0.0

    def attach(self, service: str, client) -> None:
        client.meta.events.register("before-parameter-build", lambda **kw: self._before(service, **kw))
        client.meta.events.register("after-call", lambda **kw: self._after(service, **kw))

    def _before(self, service, model, params, context, **_):
        context["bench_started"], context["bench_params"] = time.perf_counter(), params
        if service == "dynamodb":
            time.sleep(NETWORK_SECONDS)
        if service == "dynamodb" and model.name in WRITES:
            context["bench_before"] = [_stored_size(table, key) for table, key, _ in _written(model.name, params)]

    def _after(self, service, model, context, parsed, **_):
        finished, params = time.perf_counter(), context.get("bench_params", {})
        with self.lock:
            name = f"{service}:{model.name}"
            self.counts[name] = self.counts.get(name, 0) + 1
            if service != "dynamodb":
                return
            self.spans.append((context.get("bench_started", finished), finished))
            if model.name in WRITES:
                for (table, key, factor), before in zip(_written(model.name, params), context["bench_before"], strict=True):
                    size = max(before, _stored_size(table, key))
                    self.wru += factor * max(1, math.ceil(size / 1024))
            else:
                self.rru += _read_units(model.name, params, parsed)

    def cost(self, name: str, status: int) -> StepCost:
        counts = dict(self.counts)
        return StepCost(name, status,
                        dynamodb=sum(v for k, v in counts.items() if k.startswith("dynamodb:")),
                        round_trips=_round_trips(self.spans),
                        kms=sum(v for k, v in counts.items() if k.startswith("kms:")),
                        ses=sum(v for k, v in counts.items() if k.startswith("ses:")),
                        wru=self.wru, rru=self.rru, calls=counts)


def _written(operation: str, params: dict) -> list[tuple[str, dict, int]]:
    """(table, key attributes, unit factor) of each item a write request names."""
    if operation == "TransactWriteItems":
        found = []
        for entry in params["TransactItems"]:
            (_, request), = entry.items()
            found.append((request["TableName"], request.get("Key") or request.get("Item"), 2))
        return found
    if operation == "BatchWriteItem":
        return [(table, (r.get("PutRequest") or {}).get("Item") or r["DeleteRequest"]["Key"], 1)
                for table, requests in params["RequestItems"].items() for r in requests]
    return [(params["TableName"], params.get("Key") or params.get("Item"), 1)]


def _stored_size(table_name: str, key: dict) -> int:
    """The size of the item with this key in moto's store now (0 when there is none)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables[table_name]
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    item = table.get_item(DynamoType(key[table.hash_key_attr]), range_value)
    return item.size() if item is not None else 0


def _read_units(operation: str, params: dict, parsed: dict) -> float:
    def units(size: int, consistent: bool) -> float:
        return max(1, math.ceil(size / 4096)) * (1 if consistent else 0.5)

    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        return units(_item_size(parsed.get("Item")), consistent)
    if operation in ("Query", "Scan"):
        return units(sum(_item_size(i) for i in parsed.get("Items", [])), consistent)
    if operation == "TransactGetItems":
        return sum(2 * units(_item_size(r.get("Item")), True) for r in parsed.get("Responses", []))
    if operation == "BatchGetItem":
        tables = params["RequestItems"]
        return sum(units(_item_size(i), bool(tables[t].get("ConsistentRead")))
                   for t, items in parsed.get("Responses", {}).items() for i in items)
    return 0.0


def measure_steps() -> list[StepCost]:
    """Sign up, enrol TOTP and recovery codes, then log in every way a person does."""
    os.environ.update({**_local_credentials(), **STAGE, "LOCAL_AWS": "embedded"})   # moto here: the dev mailbox answers
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import pyotp
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib import aws, clock
    from chalicelib.config import get_settings
    from localdev import embedded_aws, mailbox

    meter, costs = Meter(), []
    embedded_aws.adapt_moto()
    get_settings.cache_clear()
    aws.reset()
    with mock_aws():
        for name, value in embedded_aws.provision(STAGE["TABLE_NAME"], STAGE["KMS_KEY_ID"], STAGE["MAIL_FROM"]).items():
            os.environ[name] = value
        get_settings.cache_clear()
        for service in ("dynamodb", "kms", "ses", "sns"):
            meter.attach(service, aws.client(service))
        http = Client(app, stage_name="local", project_dir=str(PROJECT)).http
        cookies: dict[str, str] = {}

        def step(name, method, path, body=None, record=True):
            meter.reset()
            sent = dict(HEADERS, cookie="; ".join(f"{k}={v}" for k, v in cookies.items()))
            response = http.request(method, path, headers=sent, body=json.dumps(body or {}).encode())
            found = response.headers.get("Set-Cookie") or []
            for header in found if isinstance(found, list) else [found]:
                cookie_name, value = header.split(";")[0].split("=", 1)
                cookies[cookie_name] = value
            if record:
                costs.append(meter.cost(name, response.status_code))
            return json.loads(response.body or b"{}")

        email, password = "bench@example.com", "correct horse battery staple 42"
        step("sign up", "POST", "/v1/accounts", {"email": email, "password": password})
        token = mailbox.messages()[0]["links"][0].split("token=")[1]
        step("verify email", "POST", "/v1/accounts/verify-email", {"token": token})
        step("password step (no method yet)", "POST", "/v1/login", {"email": email, "password": password})
        enrolment = step("begin TOTP enrolment", "POST", "/v1/account/methods/totp", {})
        totp = pyotp.TOTP(enrolment["secret"])
        step("confirm TOTP", "POST", f"/v1/account/methods/{enrolment['method_id']}/confirm", {"code": totp.now()})
        recovery = step("generate recovery codes", "POST", "/v1/account/recovery-codes", {})

        class Later:   # each login a TOTP step later: a code is accepted once
            offset = 0

            def now(self):
                return time.time() + self.offset

        later = Later()
        clock.use_clock(later)
        try:
            for turn in range(1, 3):   # the first turn warms the app's caches (a container's first login)
                later.offset = 60 * turn
                record = turn == 2
                started = step("password step", "POST", "/v1/login", {"email": email, "password": password}, record)
                step("TOTP verify + session", "POST", f"/v1/login/{started['login_id']}/verify",
                     {"method_id": enrolment["method_id"], "code": totp.at(later.now())}, record)
            later.offset += 60
            started = step("password step", "POST", "/v1/login", {"email": email, "password": password}, False)
            wrong = f"{(int(totp.at(later.now())) + 1) % 10 ** 6:06d}"
            step("wrong TOTP code", "POST", f"/v1/login/{started['login_id']}/verify",
                 {"method_id": enrolment["method_id"], "code": wrong})
            step("recovery code + session", "POST", f"/v1/login/{started['login_id']}/verify",
                 {"method_id": recovery["method_id"], "code": recovery["codes"][0]})
            step("wrong password", "POST", "/v1/login", {"email": email, "password": "not the password at all"})
            step("unknown email", "POST", "/v1/login", {"email": "nobody@example.com", "password": password})
            step("GET sessions (authenticated read)", "GET", "/v1/account/sessions")
        finally:
            clock.use_clock(None)
    return costs


def _local_credentials() -> dict:
    from localdev.embedded_aws import LOCAL_CREDENTIALS

    return LOCAL_CREDENTIALS


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(PROJECT))
    for cost in measure_steps():
        print(cost)
