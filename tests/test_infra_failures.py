"""When AWS fails under a second factor, a CLI approval or a revocation: the person is not
charged for the outage (no lockout failure, no login-attempt or step-up try, no failure
event), a counter write botocore sends twice counts once, a late lockout write cannot
undo a success, and a change whose answer was lost reaches the same outcome when retried.
Failures are injected at the botocore level (tests/support/faults.py)."""
import boto3
import pytest

from tests.support import faults as fault
from tests.support.journeys import totp_code
from tests.support.table import TABLE, account_item
from tests.test_cli_login import start as start_cli_login


def account_id(email: str) -> str:
    return account_item(email)["account_id"]["S"]


def lockout_failures(email: str) -> int:
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"PK": {"S": f"ACCOUNT#{account_id(email)}"}, "SK": {"S": "LOCKOUT"}}).get("Item", {})
    return int(item.get("failures", {}).get("N", 0))


def attempt_tries(login_id: str) -> int:
    item = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"PK": {"S": f"LOGIN#{login_id}"},
                                                                   "SK": {"S": "LOGIN"}})["Item"]
    return int(item["tries"]["N"])


def event_kinds(api) -> list[str]:
    return [e["kind"] for e in api.get("/v1/account/events").json["events"]]


def step_up_tries(api) -> int:
    from chalicelib import crypto

    token = api.cookies["__Host-mfa_session"]
    item = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"PK": {"S": f"SESSION#{crypto.hash_token(token)}"},
                                                                   "SK": {"S": "SESSION"}})["Item"]
    return int(item.get("step_up_tries", {}).get("N", 0))


# ---------------------------------------------------------------- an outage is not a failed try

@pytest.mark.parametrize("kind", [fault.SERVER_ERROR, fault.THROTTLED, fault.CONNECTION_DROPPED])
def test_kms_failing_during_a_login_counts_nothing_against_the_person(alice, api, faults, kind):
    """Ten verifications while KMS is down, on a container that has not unwrapped its data
    key yet: each answers 503, and none is a lockout failure, a try of the login attempt or a
    login_failed event; the same attempt then succeeds."""
    from chalicelib.ledger import secrets

    secrets.forget_keys()
    login_id = alice.start_login()
    faults.fail("kms", kind, times=fault.ALWAYS)
    for _ in range(10):
        failed = alice.verify(login_id)
        assert failed.status_code == 503 and failed.json["error"] == "service_unavailable"
    assert lockout_failures(alice.email) == 0
    assert attempt_tries(login_id) == 0
    faults.clear()
    assert alice.verify(login_id).status_code == 200
    assert "login_failed" not in event_kinds(api)


def test_the_final_write_failing_during_a_login_counts_nothing(alice, api, faults):
    """The code was right and only the transaction that accepts it failed: nothing counted."""
    login_id = alice.start_login()
    faults.fail("dynamodb", fault.SERVER_ERROR, operation="TransactWriteItems")
    assert alice.verify(login_id).status_code == 503
    assert lockout_failures(alice.email) == 0 and attempt_tries(login_id) == 0
    assert alice.verify(login_id).status_code == 200
    assert "login_failed" not in event_kinds(api)


def test_a_try_whose_counting_write_lost_its_answer_is_given_back(alice, api, faults):
    """The transaction that counts the try (on the attempt and on the lockout) was applied,
    but its answer never came (botocore's retries spent): 503, and what it counted is given
    back."""
    login_id = alice.start_login()
    faults.fail("dynamodb", fault.ANSWER_LOST, nth=1, operation="TransactWriteItems")
    assert alice.verify(login_id).status_code == 503 and faults.injected == 1
    assert attempt_tries(login_id) == 0 and lockout_failures(alice.email) == 0
    assert alice.verify(login_id).status_code == 200
    assert "login_failed" not in event_kinds(api)


def test_a_step_up_try_whose_counting_write_lost_its_answer_is_given_back(alice, api, faults):
    faults.fail("dynamodb", fault.ANSWER_LOST, nth=1, operation="TransactWriteItems")
    assert alice.step_up().status_code == 503 and faults.injected == 1
    assert step_up_tries(api) == 0 and lockout_failures(alice.email) == 0


def test_a_wrong_code_still_counts_while_kms_works(alice, api):
    """The rule given back only what was not checked: a wrong code is the person's failure."""
    login_id = alice.start_login()
    assert alice.verify(login_id, "000000").status_code == 401
    assert lockout_failures(alice.email) == 1 and attempt_tries(login_id) == 1
    assert "login_failed" in event_kinds(api)


def test_kms_failing_during_a_step_up_counts_nothing(alice, api, clock, faults):
    from chalicelib.ledger import secrets

    secrets.forget_keys()   # a new container: the data key is unwrapped on its first use
    faults.fail("kms", fault.SERVER_ERROR, times=fault.ALWAYS)
    for _ in range(10):
        clock.advance(30)
        failed = api.post("/v1/account/step-up", {"method_id": alice.method_id,
                                                  "code": totp_code(alice.secret, clock.now())})
        assert failed.status_code == 503 and failed.json["error"] == "service_unavailable"
    assert lockout_failures(alice.email) == 0 and step_up_tries(api) == 0
    faults.clear()
    assert alice.step_up().status_code == 200
    assert "step_up_failed" not in event_kinds(api)


# ---------------------------------------------------------------- a resent counter write counts once

def _count(owner_try: dict, owner: str, try_id: str, now: int, read: dict | None) -> None:
    from chalicelib import store

    store.count_try(owner_try, store.op_reserve_second_factor_try(owner, read, try_id, now, None))


def test_a_resent_login_try_write_counts_once(alice):
    """The transaction that counts a try, delivered twice (the first answer lost): the second
    is refused on the attempt (its try_ids hold the try, which tells the service it was
    counted) and holds on the lockout (its version is the try's); one try either way, and a
    different try still counts."""
    from chalicelib import store
    from chalicelib.services import login_attempts

    login_id = alice.start_login()
    owner, now = account_id(alice.email), int(alice.clock.now())
    browser = login_attempts.browser_hash(alice.api.cookies["__Host-mfa_login"])
    read = store.get_lockout(owner, now)
    _count(store.op_count_login_try(login_id, "a" * 32, owner, now, 5, browser), owner, "a" * 32, now, read)
    with pytest.raises(store.ConditionFailed) as resent:
        _count(store.op_count_login_try(login_id, "a" * 32, owner, now, 5, browser), owner, "a" * 32, now, read)
    assert resent.value.failed(0) and not resent.value.failed(1)
    assert "a" * 32 in store.get_login_attempt(login_id)["try_ids"]
    assert attempt_tries(login_id) == 1 and lockout_failures(alice.email) == 1
    read = store.get_lockout(owner, now)
    _count(store.op_count_login_try(login_id, "b" * 32, owner, now, 5, browser), owner, "b" * 32, now, read)
    assert attempt_tries(login_id) == 2 and lockout_failures(alice.email) == 2


def test_a_login_try_is_counted_only_on_the_attempt_of_the_account_its_token_names(alice):
    """The browser token names the account whose lockout the try reads: a token whose account
    part was changed matches no attempt (its hash covers the whole token), nor does the right
    token naming another account. Refused, nothing counted."""
    from chalicelib import store
    from chalicelib.services import login_attempts

    login_id = alice.start_login()
    owner, now = account_id(alice.email), int(alice.clock.now())
    token = alice.api.cookies["__Host-mfa_login"]
    other = "0" * 32
    ids, domain = token.split("!")
    random_part, named, *hints = ids.split(".")
    forged = ".".join([random_part, other, *hints]) + f"!{domain}"
    another = ".".join(["x" * 43, owner, *hints]) + f"!{domain}"   # another browser's token, same account
    assert named == owner
    for browser, account in ((forged, other), (token, other), (another, owner)):
        with pytest.raises(store.ConditionFailed) as refused:
            _count(store.op_count_login_try(login_id, "a" * 32, account, now, 5, login_attempts.browser_hash(browser)),
                   account, "a" * 32, now, None)
        assert refused.value.failed(0)
    alice.api.cookies["__Host-mfa_login"] = forged
    answer = alice.verify(login_id, "000000")
    assert (answer.status_code, answer.json["error"]) == (403, "login_other_browser")
    assert attempt_tries(login_id) == 0 and lockout_failures(alice.email) == 0


def test_a_browser_token_whose_domain_was_changed_is_refused(alice):
    """The token names the email's domain whose SSO enforcement the verify step reads: a
    token naming a domain that enforces nothing (to skip that check) matches no attempt."""
    login_id = alice.start_login()
    token = alice.api.cookies["__Host-mfa_login"]
    assert token.endswith("!example.com")
    alice.api.cookies["__Host-mfa_login"] = token.replace("!example.com", "!example.org")
    answer = alice.verify(login_id)   # the right code
    assert (answer.status_code, answer.json["error"]) == (403, "login_other_browser")
    assert attempt_tries(login_id) == 0 and lockout_failures(alice.email) == 0


def test_a_resent_step_up_try_write_counts_once(alice, api):
    from chalicelib import crypto, store

    token_hash = crypto.hash_token(api.cookies["__Host-mfa_session"])
    owner, now = account_id(alice.email), int(alice.clock.now())
    read = store.get_lockout(owner, now)
    for sent in range(2):
        try:
            _count(store.op_count_step_up_try(token_hash, "a" * 32, now, 5), owner, "a" * 32, now, read)
        except store.ConditionFailed as refused:
            assert sent == 1 and refused.failed(0) and not refused.failed(1)
    assert step_up_tries(api) == 1 and lockout_failures(alice.email) == 1


def test_a_try_whose_answer_botocore_lost_and_resent_counts_once(alice, faults):
    """The answer of the transaction counting a wrong verification's try is lost and botocore
    sends the request again (tests/support/faults.py drop_answer): one try, one failure. Both
    for the first failure (no lockout item yet) and for a later one."""
    for failures in (1, 2):
        login_id = alice.start_login()
        faults.drop_answer("dynamodb", nth=1, operation="TransactWriteItems")
        wrong = alice.verify(login_id, "000000")
        assert faults.injected == failures
        assert wrong.status_code == 401 and wrong.json["error"] == "invalid_code", wrong.json
        assert wrong.json["attempts_remaining"] == 4
        assert attempt_tries(login_id) == 1 and lockout_failures(alice.email) == failures


def test_a_step_up_try_whose_answer_botocore_lost_and_resent_counts_once(alice, api, faults):
    faults.drop_answer("dynamodb", nth=1, operation="TransactWriteItems")
    wrong = api.post("/v1/account/step-up", {"method_id": alice.method_id, "code": "000000"})
    assert faults.injected == 1 and wrong.status_code == 401
    assert step_up_tries(api) == 1 and lockout_failures(alice.email) == 1


# ---------------------------------------------------------------- a late lockout write after a success

def _reserve(owner: str, read: dict | None, try_id: str, now: int) -> None:
    from chalicelib import store

    store.transact([store.op_reserve_second_factor_try(owner, read, try_id, now, None)])


@pytest.mark.parametrize("clearing", ["op_reset_lockout", "op_lift_lock"])
def test_a_lockout_write_arriving_after_a_success_or_an_unlock_is_refused(alice, clearing):
    """A try's write delivered again late (botocore's resend), after that try succeeded and
    forgot the failures (op_reset_lockout) or support lifted the lock (op_lift_lock):
    refused, the failures stay forgotten."""
    from chalicelib import store

    owner = account_id(alice.email)
    now = int(alice.clock.now())
    _reserve(owner, None, "a" * 32, now)
    store.transact([getattr(store, clearing)(owner, "b" * 32)])
    with pytest.raises(store.ConditionFailed):
        _reserve(owner, None, "a" * 32, now)
    assert lockout_failures(alice.email) == 0


def test_a_lockout_write_read_from_an_item_without_a_version_needs_it_still_there(alice):
    """An item written before versions (or one holding only a pending reset) that is gone by
    the time the try's write arrives (a finished reset deletes it): refused, not recreated."""
    from chalicelib import store

    owner = account_id(alice.email)
    now = int(alice.clock.now())
    key = {"PK": {"S": f"ACCOUNT#{owner}"}, "SK": {"S": "LOCKOUT"}}
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={**key, "failures": {"N": "3"}})
    read = store.get_lockout(owner, now)
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key=key)
    with pytest.raises(store.ConditionFailed):
        _reserve(owner, read, "a" * 32, now)
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={**key, "failures": {"N": "3"}})
    _reserve(owner, read, "a" * 32, now)
    assert lockout_failures(alice.email) == 4


def test_a_try_counted_before_a_success_cannot_land_after_it(alice, make_client, race):
    """Staged: a wrong guess has read the lockout (no failures) and is about to count itself
    when the person logs in in another browser. Its write comes after the success: refused
    (try again), and no failure is left behind the success."""
    from chalicelib import store

    other = alice.in_another_browser(make_client())
    login_id = other.start_login()
    late, success = race(lambda: other.verify(login_id, "000000"), lambda: alice.login(),
                         pause_before=(store, "op_reserve_second_factor_try"))
    assert success.status_code == 200
    assert late.status_code == 429 and late.json["error"] == "try_again"
    assert lockout_failures(alice.email) == 0


def test_a_try_given_back_leaves_a_later_try_counted(alice):
    """The release takes back only the try that is still the last counted."""
    from chalicelib import store

    owner = account_id(alice.email)
    now = int(alice.clock.now())
    _reserve(owner, None, "a" * 32, now)
    read = store.get_lockout(owner, now)
    _reserve(owner, read, "b" * 32, now)
    assert store.release_second_factor_try(owner, "a" * 32, None, "c" * 32) is False
    assert lockout_failures(alice.email) == 2
    assert store.release_second_factor_try(owner, "b" * 32, read, "c" * 32) is True
    assert lockout_failures(alice.email) == 1


# ---------------------------------------------------------------- committed, but the answer was lost

@pytest.fixture
def failing_event_writes(local_aws):
    """fail(kind): every DynamoDB write that carries an audit event of that kind fails (a 500
    after botocore's retries), whatever else it carries. Returns the failures injected."""
    from botocore.exceptions import ClientError

    from chalicelib import aws

    kinds, failed = set(), []

    def refuse(params, model, **_):
        items = [next(iter(part.values())).get("Item", {}) for part in params.get("TransactItems", [])]
        if any(item.get("kind", {}).get("S") in kinds for item in [*items, params.get("Item", {})]):
            failed.append(1)
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, model.name)

    for operation in ("TransactWriteItems", "PutItem"):
        aws.client("dynamodb").meta.events.register(f"before-parameter-build.dynamodb.{operation}", refuse)

    def fail(kind: str | None) -> list:
        kinds.clear()
        kinds.update({kind} - {None})
        return failed

    return fail


def test_a_wrong_code_whose_failure_could_not_be_recorded_still_counts(alice, failing_event_writes):
    """The code was checked and wrong; only writing the failure event failed (503): the try
    stays counted, on the attempt and on the lockout."""
    login_id = alice.start_login()
    failed = failing_event_writes("login_failed")
    assert alice.verify(login_id, "000000").status_code == 503 and failed
    assert attempt_tries(login_id) == 1 and lockout_failures(alice.email) == 1


def test_a_cli_approval_whose_answer_was_lost_answers_the_same_when_retried(alice, api, cli, make_client, faults):
    started = start_cli_login(cli)
    decision = {"user_code": started["user_code"], "decision": "approve"}
    # The approval's transaction (the lookup is counted by a plain update before it) commits;
    # its answer is lost.
    faults.fail("dynamodb", fault.ANSWER_LOST, operation="TransactWriteItems")
    assert api.post("/v1/cli/logins/approve", decision).status_code == 503
    retried = api.post("/v1/cli/logins/approve", decision)
    assert retried.status_code == 200 and retried.json["status"] == "approved"
    assert event_kinds(api).count("cli_login_approved") == 1
    alice.clock.advance(5)
    assert cli.post("/v1/cli/logins/token", {"device_code": started["device_code"]}, browser=False).status_code == 200
    # Collected since: still this session's approval. Another decision, or another session's, is 409.
    assert api.post("/v1/cli/logins/approve", decision).status_code == 200
    assert api.post("/v1/cli/logins/approve", {**decision, "decision": "deny"}).status_code == 409
    other = alice.in_another_browser(make_client())
    assert other.login().status_code == 200
    refused = other.api.post("/v1/cli/logins/approve", decision)
    assert refused.status_code == 409 and refused.json["error"] == "cli_login_not_pending"


def test_a_cli_decision_and_its_audit_event_are_one_write(alice, api, cli, failing_event_writes):
    """The event's write fails: the login is still pending, and deciding again works."""
    started = start_cli_login(cli)
    decision = {"user_code": started["user_code"], "decision": "deny"}
    failed = failing_event_writes("cli_login_denied")
    assert api.post("/v1/cli/logins/approve", decision).status_code == 503 and failed
    assert api.get(f"/v1/cli/logins/{started['user_code']}").json["status"] == "pending"
    failing_event_writes(None)
    assert api.post("/v1/cli/logins/approve", decision).json["status"] == "denied"
    assert event_kinds(api).count("cli_login_denied") == 1


def test_a_failed_user_code_lookup_spends_no_budget(alice, api, cli, faults, monkeypatch):
    """The lookup itself failed (an outage), not the code: its hits are given back, so the
    whole budget is left for the codes people type."""
    from chalicelib.config import get_settings

    # One lookup in all, and one from this IP.
    for name in ("USER_CODE_MISS_LIMIT_GLOBAL", "USER_CODE_LIMIT_PER_IP"):
        monkeypatch.setenv(name, "1")
    get_settings.cache_clear()
    live = start_cli_login(cli)["user_code"]
    # The session's read, then the user code's.
    faults.fail("dynamodb", fault.SERVER_ERROR, nth=2, operation="GetItem")
    assert api.get(f"/v1/cli/logins/{live}").status_code == 503 and faults.injected == 1
    assert api.get("/v1/cli/logins/BBBB-BBBB").status_code == 404
    assert api.get(f"/v1/cli/logins/{live}").status_code == 429   # now both are spent


def test_a_cli_decision_aws_failed_to_record_spends_no_budget(alice, api, cli, failing_event_writes, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("USER_CODE_LIMIT_PER_IP", "2")
    get_settings.cache_clear()
    user_code = start_cli_login(cli)["user_code"]
    decision = {"user_code": user_code, "decision": "deny"}
    failing_event_writes("cli_login_denied")
    assert api.post("/v1/cli/logins/approve", decision).status_code == 503
    failing_event_writes(None)
    assert api.post("/v1/cli/logins/approve", decision).json["status"] == "denied"   # the first counted hit
    assert api.get(f"/v1/cli/logins/{user_code}").status_code == 200                 # the second
    assert api.get(f"/v1/cli/logins/{user_code}").status_code == 429


def other_session(alice, api, make_client) -> tuple:
    """Alice logged in in another browser too: (that browser's Person, its session id)."""
    other = alice.in_another_browser(make_client())
    assert other.login().status_code == 200
    listed = api.get("/v1/account/sessions").json["sessions"]
    return other, next(s["id"] for s in listed if not s["current"])


def test_a_revocation_and_its_audit_event_are_one_write(alice, api, make_client, failing_event_writes):
    other, session_id = other_session(alice, api, make_client)
    failed = failing_event_writes("session_revoked")
    assert api.delete(f"/v1/account/sessions/{session_id}").status_code == 503 and failed
    assert other.api.get("/v1/account").status_code == 200   # nothing changed
    failing_event_writes(None)
    assert api.delete(f"/v1/account/sessions/{session_id}").status_code == 200
    assert other.api.get("/v1/account").status_code == 401
    assert event_kinds(api).count("session_revoked") == 1


def test_a_revocation_whose_answer_was_lost_succeeds_when_retried(alice, api, make_client, faults):
    other, session_id = other_session(alice, api, make_client)
    faults.fail("dynamodb", fault.ANSWER_LOST, operation="TransactWriteItems")
    assert api.delete(f"/v1/account/sessions/{session_id}").status_code == 503
    assert other.api.get("/v1/account").status_code == 401
    assert api.delete(f"/v1/account/sessions/{session_id}").status_code == 200
    assert event_kinds(api).count("session_revoked") == 1
    never = api.delete(f"/v1/account/sessions/{'0' * 32}")
    assert never.status_code == 404 and never.json["error"] == "session_not_found"


def test_password_steps_failed_by_an_outage_do_not_spend_the_login_limit(alice, api, faults):
    """The login attempt's write fails after the hits were counted: they are given back."""
    for _ in range(5):
        faults.fail("dynamodb", fault.SERVER_ERROR, operation="PutItem")
        assert alice.password_step().status_code == 503
    faults.clear()
    # Onboarding made one step: 19 more wrong ones fit the limit of 20, then it is reached.
    wrong = [api.post("/v1/login", {"email": alice.email, "password": "wrong but long enough"}).status_code
             for _ in range(20)]
    assert wrong == [401] * 19 + [429]


def test_password_changes_failed_by_an_outage_do_not_spend_their_limit(alice, api, faults):
    body = {"current_password": alice.password, "new_password": "a brand new passphrase 2042"}
    for _ in range(5):
        # The change's transaction, after the limit's hit (a plain update) was counted.
        faults.fail("dynamodb", fault.SERVER_ERROR, operation="TransactWriteItems")
        assert api.post("/v1/account/password", body).status_code == 503
    faults.clear()
    wrong = {**body, "current_password": "not the password at all"}
    answers = [api.post("/v1/account/password", wrong).status_code for _ in range(21)]
    assert answers[:20] == [answers[0]] * 20 and answers[0] in (400, 401, 403) and answers[20] == 429
