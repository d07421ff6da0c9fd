"""What lands in DynamoDB: no secret readable from a table dump, TTL on what expires,
numbers converted at the boundary."""
import json

import boto3

from chalicelib import store
from tests.support.journeys import PASSWORD, totp_code, verification_token
from tests.support.table import items as dump


def test_table_dump_reveals_no_secret(person, api, clock):
    person.sign_up(verify=False)
    email_token = verification_token(api, person.email)
    api.post("/v1/accounts/verify-email", {"token": email_token})
    person.password_step()
    restricted_token = api.cookies["__Host-mfa_session"]
    person.enroll_totp()
    session_token = api.cookies["__Host-mfa_session"]
    text = json.dumps(dump(), default=str)
    for secret in (PASSWORD, person.secret, email_token, restricted_token, session_token):
        assert secret not in text
    methods = [i for i in dump() if i["SK"]["S"].startswith("METHOD#")]
    ciphertext = methods[0]["secret_ciphertext"]["B"]
    assert person.secret.encode() not in ciphertext


def test_method_secret_is_bound_to_its_item(alice, clock):
    """The encryption context names account and method: a ciphertext copied elsewhere fails."""
    import pytest

    from chalicelib import crypto
    from chalicelib.ledger import secrets

    method = [i for i in dump() if i["SK"]["S"].startswith("METHOD#")][0]
    ciphertext = method["secret_ciphertext"]["B"]
    account_id = method["PK"]["S"].removeprefix("ACCOUNT#")
    right = {"account_id": account_id, "method_id": alice.method_id, "purpose": "totp"}
    assert secrets.open_secret(ciphertext, right).decode() == alice.secret
    with pytest.raises(crypto.SecretUnreadable):
        secrets.open_secret(ciphertext, {**right, "method_id": "f" * 32})


def test_everything_that_expires_has_a_ttl(person, api, clock):
    person.sign_up(verify=False)
    person.api.post("/v1/accounts", {"email": "bob@example.com", "password": PASSWORD})
    by_kind = {}
    for item in dump():
        by_kind.setdefault(item["SK"]["S"].split("#")[0], []).append(item)
    assert all("expires_at" in i for i in by_kind["TOKEN"])
    api.post("/v1/accounts/verify-email", {"token": verification_token(api, person.email)})
    person.password_step()
    api.post("/v1/account/methods/totp", {})
    items = dump()
    pending = [i for i in items if i["SK"]["S"].startswith("METHOD#")]
    sessions = [i for i in items if i["SK"]["S"] == "SESSION"]
    assert pending and all(int(i["expires_at"]["N"]) > clock.now() for i in pending)
    assert sessions and all("expires_at" in i for i in sessions)
    accounts = {i["PK"]["S"]: i for i in items if i["SK"]["S"] == "ACCOUNT"}
    assert "expires_at" not in accounts["EMAIL#alice@example.com"]      # verified
    assert "expires_at" in accounts["EMAIL#bob@example.com"]            # never verified


def test_table_is_created_from_the_infra_template(local_aws):
    from localdev.embedded_aws import TEMPLATE

    template = json.loads(TEMPLATE.read_text())["Resources"]["Table"]["Properties"]
    described = boto3.client("dynamodb").describe_table(TableName="mfa-local")["Table"]
    assert described["KeySchema"] == template["KeySchema"]
    assert [g["IndexName"] for g in described["GlobalSecondaryIndexes"]] == ["GSI1"]
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName="mfa-local")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_numbers_come_back_as_int_not_decimal(alice, api, clock):
    account = store.get_account(alice.email, int(clock.now()))
    assert type(account["created_at"]) is int
    sessions = api.get("/v1/account/sessions").json["sessions"]
    assert all(type(s["expires_at"]) is int for s in sessions)
    assert store.engine._plain(__import__("decimal").Decimal("1.5")) == 1.5


def _conflict(operation: str, code: str, reasons=None):
    from botocore.exceptions import ClientError

    response = {"Error": {"Code": code, "Message": "conflict"}}
    if reasons:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, operation)


class FlakyDynamoDB:
    """Fails with a transaction conflict `failures` times, then succeeds."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0

    def transact_write_items(self, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise _conflict("TransactWriteItems", "TransactionCanceledException", ["None", "TransactionConflict"])
        return {}

    def update_item(self, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise _conflict("UpdateItem", "TransactionConflictException")
        return {"Attributes": {"hits": {"N": "1"}}}

    def put_item(self, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise _conflict("PutItem", "TransactionConflictException")
        return {}


def test_transaction_conflicts_are_retried_then_answered_as_try_again(monkeypatch):
    import pytest

    monkeypatch.setattr(store.engine, "_pause", lambda attempt: None)
    two_items = [{"Put": {"Item": {}}}, {"Put": {"Item": {}}}]
    flaky = FlakyDynamoDB(failures=2)
    monkeypatch.setattr(store.engine, "_db", lambda: flaky)
    store.transact(two_items)
    assert flaky.calls == 3
    # One write goes as a plain PutItem (half the write units), retried the same way.
    alone = FlakyDynamoDB(failures=2)
    monkeypatch.setattr(store.engine, "_db", lambda: alone)
    store.transact([{"Put": {"Item": {}}}])
    assert alone.calls == 3
    for written in (two_items, [{"Put": {"Item": {}}}]):
        always = FlakyDynamoDB(failures=99)
        monkeypatch.setattr(store.engine, "_db", lambda always=always: always)
        with pytest.raises(store.Busy) as busy:
            store.transact(written)
        assert busy.value.code == "try_again"   # answered 429 by the API: see the test below
    updating = FlakyDynamoDB(failures=1)
    monkeypatch.setattr(store.engine, "_db", lambda: updating)
    assert store.engine._update({"PK": "a", "SK": "b"}, "ADD hits :one", {":one": 1}, returns="ALL_NEW") == {"hits": 1}


def test_a_busy_store_is_answered_429_try_again(person, api, clock, monkeypatch):
    """Busy is the store's own exception, not an HTTP one: the API answers it 429 try_again
    (retry after 1 s). A second-factor try it ended is not the person's failure: no
    failure event, and the same login attempt succeeds when tried again."""
    real_transact = store.transact

    def busy_once(ops):   # the verify step's transaction; the audit event's own goes through
        monkeypatch.setattr(store, "transact", real_transact)
        raise store.Busy()

    person.onboard()
    login_id = person.start_login()
    monkeypatch.setattr(store, "transact", busy_once)
    answer = api.post(f"/v1/login/{login_id}/verify",
                      {"method_id": person.method_id, "code": totp_code(person.secret, clock.now())})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"
    assert answer.json == {"error": "try_again", "message": "Another request is changing the same data. Try again.",
                           "retry_after": 1}
    again = api.post(f"/v1/login/{login_id}/verify",
                     {"method_id": person.method_id, "code": totp_code(person.secret, clock.now())})
    assert again.status_code == 200
    assert "login_failed" not in [e["kind"] for e in api.get("/v1/account/events?limit=100").json["events"]]
