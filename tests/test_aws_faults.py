"""AWS failing under the API: throttling, 500s, dropped connections, transaction conflicts
and lost answers injected at the botocore level (tests/support/faults.py)."""
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.support import faults as fault
from tests.support import table
from tests.support.journeys import Person, mailbox, token_in, totp_code, verification_token
from tests.support.phone import Phone, pair_phone
from tests.support.table import TABLE

# ---------------------------------------------------------------- the harness itself

def test_a_failing_call_is_never_sent_and_raises_what_botocore_raises(faults):
    from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError

    from chalicelib import aws

    db = aws.client("dynamodb")
    item = {"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}}
    expected = [(fault.THROTTLED, "ThrottlingException"), (fault.SERVER_ERROR, "InternalServerError"),
                (fault.UNAVAILABLE, "ServiceUnavailable"), (fault.CONFLICT, "TransactionConflictException")]
    for kind, code in expected:
        faults.fail("dynamodb", kind)
        with pytest.raises(ClientError) as raised:
            db.put_item(TableName=TABLE, Item=item)
        assert raised.value.response["Error"]["Code"] == code
    for kind, exception in ((fault.CONNECTION_DROPPED, ConnectionClosedError),
                            (fault.CONNECT_TIMEOUT, ConnectTimeoutError)):
        faults.fail("dynamodb", kind)
        with pytest.raises(exception):
            db.put_item(TableName=TABLE, Item=item)
    assert "Item" not in db.get_item(TableName=TABLE, Key=item)
    assert faults.injected == 6


def test_a_conflicting_transaction_is_cancelled_with_the_reason(faults):
    from botocore.exceptions import ClientError

    from chalicelib import aws

    faults.fail("dynamodb", fault.CONFLICT, operation="TransactWriteItems")
    with pytest.raises(ClientError) as raised:
        aws.client("dynamodb").transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}}}}])
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert raised.value.response["CancellationReasons"] == [{"Code": "TransactionConflict"}]


def test_a_lost_answer_is_applied_then_times_out(faults):
    from botocore.exceptions import ReadTimeoutError

    from chalicelib import aws

    db = aws.client("dynamodb")
    item = {"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}}
    faults.fail("dynamodb", fault.ANSWER_LOST)
    with pytest.raises(ReadTimeoutError):
        db.put_item(TableName=TABLE, Item=item)
    assert db.get_item(TableName=TABLE, Key=item)["Item"] == item


def test_the_nth_call_counts_from_when_the_fault_is_set_and_times_bounds_it(faults):
    from botocore.exceptions import ClientError

    from chalicelib import aws

    db = aws.client("dynamodb")
    key = {"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}}
    db.get_item(TableName=TABLE, Key=key)
    faults.fail("dynamodb", fault.THROTTLED, nth=2, times=2)
    outcomes = []
    for _ in range(4):
        try:
            db.get_item(TableName=TABLE, Key=key)
            outcomes.append("ok")
        except ClientError:
            outcomes.append("failed")
    assert outcomes == ["ok", "failed", "failed", "ok"]
    faults.fail("kms", fault.SERVER_ERROR, times=fault.ALWAYS)
    for _ in range(3):
        with pytest.raises(ClientError):
            aws.client("kms").list_keys()
    faults.clear()
    aws.client("kms").list_keys()
    assert faults.positions("kms") == [("kms", n, "ListKeys") for n in (1, 2, 3, 4)]
    assert [p[1:] for p in faults.positions("dynamodb")] == [(n, "GetItem") for n in range(1, 6)]


def test_a_dropped_answer_is_resent_by_botocore_when_its_retries_allow(faults):
    from chalicelib import aws

    # DynamoDB's client retries: the put was applied twice, the caller saw one success.
    faults.drop_answer("dynamodb", operation="PutItem")
    answer = aws.client("dynamodb").put_item(TableName=TABLE, Item={"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}})
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert faults.injected == 1


# ---------------------------------------------------------------- how the API answers a failing AWS

UNKNOWN_TOKEN = {"token": "t" * 43}


def test_a_failing_dependency_answers_503_with_retry_after(api, faults):
    # Checking an emailed token reads DynamoDB once; an unknown one is refused.
    for kind in fault.OUTAGES:
        faults.fail("dynamodb", kind)
        answer = api.post("/v1/accounts/verify-email", UNKNOWN_TOKEN)
        assert answer.status_code == 503, (kind, answer.json)
        assert answer.json == {"error": "service_unavailable", "retry_after": 5,
                               "message": "The service is briefly unavailable. Try again in a moment."}
        assert answer.headers["Retry-After"] == "5"
    assert faults.injected == len(fault.OUTAGES)
    assert api.post("/v1/accounts/verify-email", UNKNOWN_TOKEN).status_code == 400


def test_a_bug_stays_a_500(api, monkeypatch):
    from chalicelib.services import accounts

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(accounts, "verify_email", broken)
    answer = api.post("/v1/accounts/verify-email", UNKNOWN_TOKEN)
    assert (answer.status_code, answer.json["error"]) == (500, "internal_error")


def test_only_failures_of_aws_itself_count_as_an_outage():
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

    from chalicelib import aws

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": ""},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")

    outages = [client_error("ThrottlingException", 400), client_error("ProvisionedThroughputExceededException", 400),
               client_error("Throttling", 400), client_error("KMSInternalException", 500),
               client_error("Whatever", 502), EndpointConnectionError(endpoint_url="x"),
               ReadTimeoutError(endpoint_url="x"), aws.Unavailable("no time left")]
    bugs = [client_error("ValidationException", 400), client_error("AccessDeniedException", 400),
            client_error("ConditionalCheckFailedException", 400), NoCredentialsError(), KeyError("x")]
    assert [aws.is_outage(e) for e in outages] == [True] * len(outages)
    assert [aws.is_outage(e) for e in bugs] == [False] * len(bugs)


# ---------------------------------------------------------------- botocore sized to the invocation

def test_clients_try_twice_within_short_timeouts_and_ses_once(local_aws):
    from chalicelib import aws

    for service in ("dynamodb", "kms", "sns"):
        config = aws.client(service).meta.config
        assert (config.retries, config.connect_timeout, config.read_timeout) == (
            {"total_max_attempts": 2, "mode": "standard"}, 1.0, 2.0)
    assert aws.client("ses").meta.config.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert aws.call_budget_seconds() == 7


def test_a_call_starts_only_with_time_left_for_all_its_attempts(faults):
    from chalicelib import aws

    db = aws.client("dynamodb")
    try:
        aws.use_time_left(lambda: 7000)
        db.list_tables()
        aws.use_time_left(lambda: 6999)
        with pytest.raises(aws.Unavailable):
            db.list_tables()
    finally:
        aws.use_time_left(None)
    assert faults.positions() == [("dynamodb", 1, "ListTables")] * 1 + [("dynamodb", 2, "ListTables")]


def test_a_request_without_time_for_another_call_answers_503_without_calling(api, monkeypatch):
    from chalicelib import aws
    from chalicelib.config import get_settings
    from tests.support.faults import Faults

    # Calls that could take 2 x (1 + 20) s do not fit in the 15 s Lambda: none may start.
    monkeypatch.setenv("AWS_READ_TIMEOUT_SECONDS", "20")
    get_settings.cache_clear()
    aws.reset()
    watched = Faults().install()
    answer = api.post("/v1/accounts/verify-email", UNKNOWN_TOKEN)
    assert (answer.status_code, answer.json["error"]) == (503, "service_unavailable")
    assert watched.sent == []
    monkeypatch.delenv("AWS_READ_TIMEOUT_SECONDS")
    get_settings.cache_clear()
    aws.reset()
    assert api.post("/v1/accounts/verify-email", UNKNOWN_TOKEN).status_code == 400


class _Invocation:
    """A Lambda context with this much time left."""

    def __init__(self, milliseconds: float):
        self.get_remaining_time_in_millis = lambda: milliseconds


def test_the_notice_sender_starts_no_send_without_time_for_it(app_module, faults):
    from chalicelib import aws, store
    from chalicelib.ledger import outbox
    from chalicelib.records import Client

    notice_id, queued = outbox.notice("alice@example.com", "password_changed", Client(), ended=0)
    store.transact([queued])
    event = {"Records": [{"eventName": "INSERT",
                          "dynamodb": {"Keys": {"PK": {"S": f"OUTBOX#{notice_id}"}, "SK": {"S": "OUTBOX"}}}}]}
    faults.sent.clear()
    # Raising makes Lambda deliver the batch again, later.
    with pytest.raises(aws.Unavailable):
        app_module.outbox_delivery(event, _Invocation(6999))
    assert faults.sent == []
    assert app_module.outbox_delivery(event, _Invocation(7000)) == {"delivered": 1}
    assert [c.operation for c in faults.sent] == ["UpdateItem", "SendRawEmail", "DeleteItem"]


def test_an_ses_answer_lost_is_not_sent_again_by_botocore(api, faults):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib import aws

    ses = ses_backends[DEFAULT_ACCOUNT_ID][aws.client("ses").meta.region_name]
    # A reset asked for an unknown address mails it directly; SES takes it, its answer is lost.
    faults.drop_answer("ses")
    answer = api.post("/v1/password-resets", {"email": "nobody@example.com"})
    assert (answer.status_code, answer.json["error"]) == (503, "service_unavailable")
    assert faults.injected == 1
    assert [c.operation for c in faults.sent if c.service == "ses"] == ["SendRawEmail"]
    assert len(ses.sent_messages) == 1


# ---------------------------------------------------------------- batch deletes

class _Throttled:
    """A DynamoDB client whose batch writes leave the first `unprocessed` answers' items unprocessed."""

    def __init__(self, unprocessed: int):
        self.unprocessed, self.batches = unprocessed, []

    def batch_write_item(self, RequestItems):
        self.batches.append(RequestItems)
        if len(self.batches) <= self.unprocessed:
            return {"UnprocessedItems": RequestItems}
        return {"UnprocessedItems": {}}


@pytest.fixture
def pauses(monkeypatch):
    from chalicelib.store import engine

    waited = []
    monkeypatch.setattr(engine, "_sleep", waited.append)
    return waited


def test_deleting_sessions_sends_unprocessed_items_again_after_pauses(local_aws, monkeypatch, pauses):
    from chalicelib import store
    from chalicelib.store import engine

    db = _Throttled(unprocessed=2)
    monkeypatch.setattr(engine, "_db", lambda: db)
    store.delete_sessions(["a" * 64, "b" * 64])
    assert len(db.batches) == 3
    # Jittered, each within twice the range of the one before.
    assert len(pauses) == 2 and all(0.01 * 2 ** n <= pause < 0.04 * 2 ** n for n, pause in enumerate(pauses, 1))


def test_deleting_sessions_gives_up_as_unavailable_when_dynamodb_keeps_throttling(local_aws, monkeypatch, pauses):
    from chalicelib import aws, store
    from chalicelib.store import engine

    db = _Throttled(unprocessed=1000)
    monkeypatch.setattr(engine, "_db", lambda: db)
    with pytest.raises(aws.Unavailable):
        store.delete_sessions(["a" * 64])
    assert len(db.batches) == 5 and len(pauses) == 4


# ---------------------------------------------------------------- every write path, every call position
#
# Each path is prepared once, then its request is sent from the same starting point (the
# table restored, the browser's cookies put back) once cleanly, to record its calls, and then
# with one fault at each call position, the kinds that fit the call taken in turn so that a
# path meets them all (a lost answer and a conflict that outlasts the store's retries fit the
# writes; FAULTS_EVERY_KIND=1 injects every kind that fits at every position). The answer is
# 503 (429 try_again for a conflict), or the clean answer where the failure is meant to be
# absorbed (a notice left in the outbox, a push that could not be delivered); the
# table is as before the request or as after the clean one, or a step of the change that the
# same request sent again completes; and the same request sent again reaches the clean
# outcome. Counters (tries, lockout, rate limits, audit events) are left out of that
# comparison; a failure that changed nothing else must leave the person's tries (the login
# attempt's, step-up's, the lockout's) as they were.

ROTATION = (fault.THROTTLED, fault.CONNECTION_DROPPED, fault.SERVER_ERROR, fault.CONNECT_TIMEOUT, fault.UNAVAILABLE)
WRITES = {"TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem", "SendRawEmail", "Publish",
          "CreatePlatformEndpoint", "SetEndpointAttributes", "DeleteEndpoint"}
DYNAMODB_WRITES = {"TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem"}
OUTBOX = '"PK": "OUTBOX#'


@dataclass
class Request:
    """One request of a write path, sent as many times as the matrix needs; `finish` completes
    a change that the same request cannot be sent again for (an account deletion, whose
    session is gone: the operator's sweep)."""
    client: object
    send: Callable
    status: int
    finish: Callable | None = None


def _kinds_for(call) -> list[str]:
    kinds = [*ROTATION]
    if call.operation in WRITES:
        kinds.insert(0, fault.ANSWER_LOST)
    if call.operation in DYNAMODB_WRITES:
        kinds.insert(0, fault.CONFLICT)
    return kinds


def schedule(calls: list) -> list[tuple[int, str]]:
    """(position, kind) to inject: every position once, with the kind that fits it and has
    been used least so far; then, on a short path, each kind not used yet at a position it
    fits, so that a path meets every kind that fits one of its calls. FAULTS_EVERY_KIND=1:
    every kind that fits at every position (three times as long)."""
    if os.environ.get("FAULTS_EVERY_KIND") == "1":
        return [(position, kind) for position, call in enumerate(calls) for kind in _kinds_for(call)]
    used: Counter = Counter()
    planned = []
    for position, call in enumerate(calls):
        kind = min(_kinds_for(call), key=lambda k: used[k])
        used[kind] += 1
        planned.append((position, kind))
    for kind in (*ROTATION, fault.ANSWER_LOST, fault.CONFLICT):
        fitting = [p for p, call in enumerate(calls) if kind in _kinds_for(call)]
        if not used[kind] and fitting:
            planned.append((fitting[-1], kind))
    return planned


def _held(found: list[dict]) -> list[str]:
    """What the table holds, counters and the outbox's pending notices left aside."""
    return [item for item in table.state(found)[0] if OUTBOX not in item]


def _tries(found: list[dict]) -> dict:
    """The person's tries as counted, by item: a login attempt's and a session's step-up tries,
    the lockout's failures. An AWS failure must give back a try it counted (a burst of
    guesses stays limited: the try is counted before the proof is checked)."""
    counted = {}
    for item in found:
        number = sum(int(item[a]["N"]) for a in ("tries", "step_up_tries", "failures") if a in item)
        if number:
            counted[item["PK"]["S"] + " " + item["SK"]["S"]] = number
    return counted


def _extra(found: list[str], expected: list[str]) -> list[str]:
    return list((Counter(found) - Counter(expected)).elements())


class Matrix:
    """One request of a write path, sent from the same starting point (the table restored, the
    browser's cookies put back) once cleanly and then with one fault at each call position."""

    def __init__(self, request: Request, faults):
        self.request, self.faults = request, faults
        self.before, self.cookies = table.items(), dict(request.client.cookies)
        self.current = self.before
        self.start = _held(table.items_in_moto())
        self.counted = table.state(table.items_in_moto())
        self.tries = _tries(table.items_in_moto())

    def from_the_start(self) -> None:
        table.forget_stream_records()
        table.restore(self.before, self.current)
        self.request.client.cookies = dict(self.cookies)
        self.faults.clear()

    def read(self) -> list[dict]:
        self.current = table.items_in_moto()
        return self.current

    def run(self) -> tuple[list[tuple], list[str]]:
        """(the (position, kind) tried, what went wrong)."""
        request, faults = self.request, self.faults
        faults.calls.clear()
        clean = request.send()
        assert clean.status_code == request.status, clean.json
        self.calls, self.after = list(faults.calls), _held(self.read())
        self.created = _extra(self.after, self.start)
        assert self.after != self.start, "the request changed nothing"
        tried, problems = schedule(self.calls), []
        for position, kind in tried:
            problem = self.inject(position, kind)
            if problem:
                problems.append(problem)
        self.from_the_start()
        return tried, problems

    def inject(self, position: int, kind: str) -> str | None:
        """What went wrong with `kind` at the call at `position`, if anything."""
        request, faults, call = self.request, self.faults, self.calls[position]
        arguments = {"times": fault.ALWAYS, "operation": call.operation} if kind == fault.CONFLICT else {}
        nth = sum(1 for c in self.calls[:position + 1] if (c == call if arguments else c.service == call.service))
        self.from_the_start()
        faults.fail(call.service, kind, nth=nth, **arguments)
        answer = request.send()
        where = f"{kind} at call {position + 1} ({call.service} {call.operation}) answered {answer.status_code} " \
                f"{(answer.json or {}).get('error')}"
        found = self.read()
        held = _held(found)
        if kind != fault.CONFLICT and held == self.start and _tries(found) != self.tries:
            return f"{where}: counted against the person: {self.tries} then {_tries(found)}"
        if answer.status_code == request.status:
            # Absorbed by design (a notice left in the outbox, a push not delivered).
            return None if held == self.after else f"{where} without the change: {self.diff(held)}"
        expected = (429, "try_again") if kind == fault.CONFLICT else (503, "service_unavailable")
        if (answer.status_code, (answer.json or {}).get("error")) != expected:
            return where
        if table.state(found) == self.counted:
            return None  # nothing moved, not even a counter: sending it again is the clean run again
        faults.clear()
        again = request.send()
        final = _held(self.read())
        if final != self.after and request.finish:
            request.finish()
            final = _held(self.read())
        retried = f"{where}; sent again: {again.status_code} {(again.json or {}).get('error')}"
        if again.status_code >= 500:
            return retried
        if held == self.start:
            return None if again.status_code == request.status and final == self.after else \
                f"{retried}, {self.diff(final)}"
        # Applied, in part or whole, before the failure: sending it again must complete it, at
        # most starting the same thing again (a second login attempt), nothing else.
        if _extra(self.after, final) or not set(_extra(final, self.after)) <= set(self.created):
            return f"{retried}: left {self.diff(held)}, then {self.diff(final)}"
        return None

    def diff(self, held: list[str]) -> str:
        """How `held` differs from the clean outcome, by item key."""
        def keys(found):
            return sorted(json.loads(i)["PK"] + " " + json.loads(i)["SK"] for i in found)
        return f"missing {keys(_extra(self.after, held))}, extra {keys(_extra(held, self.after))}"


def _sign_up(alice, make_client) -> Request:
    person = Person(make_client(), alice.clock, "bob@example.com")
    return Request(person.api, lambda: person.api.post("/v1/accounts", {"email": person.email,
                                                                         "password": person.password}), 202)


def _verify_email(alice, make_client) -> Request:
    person = Person(make_client(), alice.clock, "bob@example.com").sign_up(verify=False)
    token = verification_token(person.api, person.email)
    return Request(person.api, lambda: person.api.post("/v1/accounts/verify-email", {"token": token}), 200)


def _password_step(alice, make_client) -> Request:
    alice.api.post("/v1/logout")
    return Request(alice.api, alice.password_step, 200)


def _second_factor(alice, make_client) -> Request:
    alice.api.post("/v1/logout")
    login_id = alice.start_login()
    code = totp_code(alice.secret, alice.clock.now())
    return Request(alice.api, lambda: alice.verify(login_id, code), 200)


def _step_up(alice, make_client) -> Request:
    alice.clock.advance(30)
    body = {"method_id": alice.method_id, "code": totp_code(alice.secret, alice.clock.now())}
    return Request(alice.api, lambda: alice.api.post("/v1/account/step-up", body), 200)


def _add_method(alice, make_client) -> Request:
    return Request(alice.api, lambda: alice.api.post("/v1/account/methods/totp", {"label": "Tablet"}), 201)


def _confirm_method(alice, make_client) -> Request:
    started = alice.api.post("/v1/account/methods/totp", {"label": "Tablet"}).json
    code = totp_code(started["secret"], alice.clock.now())
    return Request(alice.api, lambda: alice.api.post(f"/v1/account/methods/{started['method_id']}/confirm",
                                                     {"code": code}), 200)


def _remove_method(alice, make_client) -> Request:
    method_id, _ = alice.add_totp()
    return Request(alice.api, lambda: alice.api.delete(f"/v1/account/methods/{method_id}", {"confirm": True}), 200)


def _recovery_codes(alice, make_client) -> Request:
    return Request(alice.api, lambda: alice.api.post("/v1/account/recovery-codes", {}), 201)


def _end_a_session(alice, make_client) -> Request:
    alice.in_another_browser(make_client()).login()
    other = next(s["id"] for s in alice.api.get("/v1/account/sessions").json["sessions"] if not s["current"])
    return Request(alice.api, lambda: alice.api.delete(f"/v1/account/sessions/{other}"), 200)


def _end_other_sessions(alice, make_client) -> Request:
    alice.in_another_browser(make_client()).login()
    return Request(alice.api, lambda: alice.api.delete("/v1/account/sessions?scope=others"), 200)


def _approve_cli_login(alice, make_client) -> Request:
    started = make_client(origin=None).post("/v1/cli/logins", {"client_name": "mfa-cli"}, browser=False).json
    body = {"user_code": started["user_code"], "decision": "approve"}
    return Request(alice.api, lambda: alice.api.post("/v1/cli/logins/approve", body), 200)


def _send_push(alice, make_client) -> Request:
    method = pair_phone(alice, Phone(make_client(origin=None), alice.clock))
    alice.api.post("/v1/logout")
    login_id = alice.start_login()
    return Request(alice.api, lambda: alice.api.post(f"/v1/login/{login_id}/push", {"method_id": method["id"]}), 201)


def _change_password(alice, make_client) -> Request:
    body = {"current_password": alice.password, "new_password": "another horse battery staple"}
    return Request(alice.api, lambda: alice.api.post("/v1/account/password", body), 200)


def _ask_password_reset(alice, make_client) -> Request:
    anonymous = make_client()
    return Request(anonymous, lambda: anonymous.post("/v1/password-resets", {"email": alice.email}), 202)


def _reset_password(alice, make_client) -> Request:
    anonymous = make_client()
    anonymous.post("/v1/password-resets", {"email": alice.email})
    token = token_in(mailbox(anonymous, alice.email, "Reset your password")[0]["links"][0])
    body = {"token": token, "new_password": "another horse battery staple"}
    return Request(anonymous, lambda: anonymous.post("/v1/password-resets/confirm", body), 200)


def _change_email(alice, make_client) -> Request:
    return Request(alice.api, lambda: alice.api.post("/v1/account/email", {"new_email": "alice.new@example.com"}),
                   202)


def _confirm_email_change(alice, make_client) -> Request:
    alice.api.post("/v1/account/email", {"new_email": "alice.new@example.com"})
    token = token_in(mailbox(alice.api, "alice.new@example.com", "Confirm your new email address")[0]["links"][0])
    anonymous = make_client()
    return Request(anonymous, lambda: anonymous.post("/v1/account/email/confirm", {"token": token}), 200)


def _delete_account(alice, make_client) -> Request:
    from chalicelib.services import account_deletion

    return Request(alice.api, lambda: alice.api.delete("/v1/account", {"confirm": True}), 200,
                   finish=account_deletion.resume_all)


WRITE_PATHS = {
    "sign up": _sign_up,
    "verify email": _verify_email,
    "password step": _password_step,
    "second factor": _second_factor,
    "step-up": _step_up,
    "add a method": _add_method,
    "confirm a method": _confirm_method,
    "remove a method": _remove_method,
    "recovery codes": _recovery_codes,
    "end a session": _end_a_session,
    "end other sessions": _end_other_sessions,
    "approve a CLI login": _approve_cli_login,
    "send a push": _send_push,
    "change the password": _change_password,
    "ask a password reset": _ask_password_reset,
    "reset the password": _reset_password,
    "change the email": _change_email,
    "confirm an email change": _confirm_email_change,
    "delete the account": _delete_account,
}


def test_every_failure_at_every_call_of_every_write_path(person, faults, monkeypatch, make_client):
    """One account for every path (onboarding is most of a path's cost): each path starts from
    the table, cookies and clock as onboarding left them."""
    from chalicelib.store import engine

    monkeypatch.setattr(engine, "_sleep", lambda seconds: None)
    alice = person.onboard()
    onboarded, cookies, at = table.items(), dict(alice.api.cookies), alice.clock.now()
    current, problems = onboarded, []
    for name, prepare in WRITE_PATHS.items():
        table.restore(onboarded, current)
        alice.api.cookies, alice.clock.t = dict(cookies), at
        matrix = Matrix(prepare(alice, make_client), faults)
        tried, found = matrix.run()
        current = matrix.current
        problems += [f"{name}: {problem}" for problem in found]
        never = (set(ROTATION) | {fault.ANSWER_LOST}) - {kind for _, kind in tried}
        problems += [f"{name}: never met {kind}" for kind in sorted(never)]
    assert not problems, "\n".join(problems)
