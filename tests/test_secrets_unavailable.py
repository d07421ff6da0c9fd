"""A sealed secret that does not open is the stage's data gone wrong, never the person's proof
(chalicelib/ledger/secrets.py): damaged, moved onto another method or account, under a data
key the table lost, or under a KMS key that refuses (disabled, pending deletion; moto's KMS is
made to refuse as AWS's does). Every path that opens or seals one answers 503
`secret_unavailable` ({error, message}), counts no try (lockout, login attempt, step-up) and no
failure event, writes nothing half way, and says so in the log and the SecretsUnavailable
metric; the outbox leaves such a notice pending without failing its stream batch; `python -m
ops.keys` names such secrets and why. Each test mends the breakage and shows the same try
succeeding: what failed was given back."""
import json
import logging

import boto3
import pytest

from chalicelib import store
from chalicelib.ledger import secrets
from ops import keys
from tests.support import LOCAL_STAGE, PROJECT
from tests.support.journeys import Person, mailbox, token_in, totp_code
from tests.support.outbox import Stream, sweep
from tests.support.table import TABLE, items, items_of
from tests.test_infra_failures import attempt_tries, event_kinds, lockout_failures, step_up_tries
from tests.test_sms import legacy  # noqa: F401 - the fixture: a person with a legacy SMS method

SECRET_UNAVAILABLE = {"error": "secret_unavailable",
                      "message": "A stored secret cannot be read right now: try another method or later."}


@pytest.fixture(autouse=True)
def kms_as_aws(monkeypatch, local_aws):
    """moto's KMS refuses a disabled key (DisabledException) and one pending deletion
    (KMSInvalidStateException), as AWS's does; moto 5 ignores the key's state."""
    from moto.core.exceptions import JsonRESTError
    from moto.kms.models import KmsBackend

    refusals = {"Disabled": "DisabledException", "PendingDeletion": "KMSInvalidStateException"}

    def refusing(original):
        def call(self, *args, key_id=None, **kwargs):
            if key_id is not None:
                key = self.keys[self.any_id_to_key_id(key_id)]
                if key.key_state in refusals:
                    raise JsonRESTError(refusals[key.key_state], f"{key.arn} is {key.key_state}.")
            return original(self, *args, key_id=key_id, **kwargs)
        return call

    monkeypatch.setattr(KmsBackend, "decrypt", refusing(KmsBackend.decrypt))
    monkeypatch.setattr(KmsBackend, "encrypt", refusing(KmsBackend.encrypt))


# ---------------------------------------------------------------- breaking and mending

def _kms_key_id() -> str:
    return boto3.client("kms").describe_key(KeyId=LOCAL_STAGE["KMS_KEY_ID"])["KeyMetadata"]["KeyId"]


def _method_key(account_id: str, method_id: str) -> dict:
    return {"PK": {"S": f"ACCOUNT#{account_id}"}, "SK": {"S": f"METHOD#{method_id}"}}


def _account_id(email: str) -> str:
    return store.get_account(email, 0)["account_id"]


def _ciphertext(email: str, method_id: str, attribute: str) -> bytes:
    item = boto3.client("dynamodb").get_item(TableName=TABLE, Key=_method_key(_account_id(email), method_id))["Item"]
    return item[attribute]["B"]


def _set_ciphertext(email: str, method_id: str, attribute: str, ciphertext: bytes) -> None:
    boto3.client("dynamodb").update_item(
        TableName=TABLE, Key=_method_key(_account_id(email), method_id), UpdateExpression="SET #a = :c",
        ExpressionAttributeNames={"#a": attribute}, ExpressionAttributeValues={":c": {"B": ciphertext}})


def flipped(ciphertext: bytes) -> bytes:
    return ciphertext[:-5] + bytes([ciphertext[-5] ^ 0x40]) + ciphertext[-4:]


def break_secret(how: str, person: Person, method_id: str, attribute: str, make_client) -> tuple[str, callable]:
    """Break the secret `attribute` of the person's method as `how` says: (the reason the
    service reports, a function that mends it)."""
    original = _ciphertext(person.email, method_id, attribute)

    def put_back() -> None:
        _set_ciphertext(person.email, method_id, attribute, original)

    if how == "flipped":
        _set_ciphertext(person.email, method_id, attribute, flipped(original))
        return secrets.DOES_NOT_OPEN, put_back
    if how == "from_another_method":
        other_id, _ = person.add_totp("Other")
        _set_ciphertext(person.email, method_id, attribute, _ciphertext(person.email, other_id, "secret_ciphertext"))
        return secrets.DOES_NOT_OPEN, put_back
    if how == "from_another_account":
        bob = Person(make_client(), person.clock, "bob@example.com").onboard()
        _set_ciphertext(person.email, method_id, attribute, _ciphertext(bob.email, bob.method_id, "secret_ciphertext"))
        return secrets.DOES_NOT_OPEN, put_back
    if how == "data_key_missing":
        key_id = store.get_current_data_key()["key_id"]
        item_key = {"PK": {"S": "DATAKEY"}, "SK": {"S": f"KEY#{key_id}"}}
        dynamodb = boto3.client("dynamodb")
        data_key = dynamodb.get_item(TableName=TABLE, Key=item_key)["Item"]
        dynamodb.delete_item(TableName=TABLE, Key=item_key)
        secrets.forget_keys()   # a container that has not unwrapped it yet
        return secrets.DATA_KEY_MISSING, lambda: dynamodb.put_item(TableName=TABLE, Item=data_key)
    kms, key_id = boto3.client("kms"), _kms_key_id()
    secrets.forget_keys()
    if how == "kms_key_disabled":
        kms.disable_key(KeyId=key_id)
    else:
        assert how == "kms_key_pending_deletion"
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    def enable() -> None:
        if how == "kms_key_pending_deletion":
            kms.cancel_key_deletion(KeyId=key_id)
        kms.enable_key(KeyId=key_id)
    return secrets.KMS_REFUSED, enable


BREAKAGES = ["flipped", "from_another_method", "from_another_account", "data_key_missing", "kms_key_disabled",
             "kms_key_pending_deletion"]
KMS_REFUSALS = ["kms_key_disabled", "kms_key_pending_deletion"]


def assert_unavailable(answer) -> None:
    assert (answer.status_code, answer.json) == (503, SECRET_UNAVAILABLE)
    assert "Retry-After" not in answer.headers   # a moment's wait does not mend it: an operator does


def assert_reported(capsys, caplog, reason: str, method_id: str, secret: str | None) -> None:
    """The log names the method (and the account only as its hash), never the secret; the
    SecretsUnavailable metric carries the reason."""
    logged = [r.getMessage() for r in caplog.records if r.name == "chalicelib.ledger.secrets"]
    assert logged and all(f"secret unavailable ({reason})" in line and f"method_id={method_id}" in line
                          and "account=" in line and "account_id" not in line for line in logged)
    assert secret is None or not any(secret in line for line in logged)
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"SecretsUnavailable"' in line]
    assert metrics and {m["Reason"] for m in metrics} == {reason}
    assert all(m["SecretsUnavailable"] == 1 for m in metrics)
    # Where the stateful stack's alarm looks: the namespace, the name, the stage alone.
    alarm = json.loads((PROJECT / "infra" / "template.json").read_text())["Resources"]["SecretsUnavailableAlarm"]
    directive = metrics[0]["_aws"]["CloudWatchMetrics"][0]
    assert (alarm["Properties"]["Namespace"], alarm["Properties"]["MetricName"]) == (
        directive["Namespace"], "SecretsUnavailable")
    assert [d["Name"] for d in alarm["Properties"]["Dimensions"]] in directive["Dimensions"]


def keys_of(found: list[dict]) -> set[tuple[str, str]]:
    return {(i["PK"]["S"], i["SK"]["S"]) for i in found}


# ---------------------------------------------------------------- the second factor

@pytest.mark.parametrize("how", BREAKAGES)
def test_a_login_whose_totp_secret_does_not_open_answers_503_and_counts_nothing(
        alice, api, make_client, capsys, caplog, how):
    """Ten tries on one login attempt (5 would end it, 10 would lock the account if counted)."""
    reason, mend = break_secret(how, alice, alice.method_id, "secret_ciphertext", make_client)
    login_id = alice.start_login()
    method_before = _ciphertext(alice.email, alice.method_id, "secret_ciphertext")
    before = keys_of(items())
    capsys.readouterr()
    caplog.set_level(logging.ERROR)
    for _ in range(10):
        assert_unavailable(alice.verify(login_id))
    assert_reported(capsys, caplog, reason, alice.method_id, alice.secret)
    assert lockout_failures(alice.email) == 0 and attempt_tries(login_id) == 0
    lockout = (f"ACCOUNT#{_account_id(alice.email)}", "LOCKOUT")   # the try counted, then given back
    assert keys_of(items()) - {lockout} == before - {lockout}   # no session, no event, no notice
    assert _ciphertext(alice.email, alice.method_id, "secret_ciphertext") == method_before
    assert "login_failed" not in event_kinds(api)
    mend()
    assert alice.verify(login_id).status_code == 200


@pytest.mark.parametrize("how", ["flipped", "data_key_missing", "kms_key_disabled"])
def test_a_step_up_whose_totp_secret_does_not_open_answers_503_and_counts_nothing(
        alice, api, make_client, clock, capsys, caplog, how):
    reason, mend = break_secret(how, alice, alice.method_id, "secret_ciphertext", make_client)
    capsys.readouterr()
    caplog.set_level(logging.ERROR)
    for _ in range(10):
        assert_unavailable(alice.step_up())
    assert_reported(capsys, caplog, reason, alice.method_id, alice.secret)
    assert step_up_tries(api) == 0 and lockout_failures(alice.email) == 0
    assert "step_up_failed" not in event_kinds(api)
    mend()
    assert alice.step_up().status_code == 200


@pytest.mark.parametrize("how", ["flipped", "data_key_missing", "kms_key_pending_deletion"])
def test_a_recovery_code_whose_key_does_not_open_is_not_used_up(alice, api, make_client, how):
    generated = api.post("/v1/account/recovery-codes")
    method_id, codes = generated.json["method_id"], generated.json["codes"]
    hashes = store.get_method(_account_id(alice.email), method_id, None)["code_hashes"]
    _, mend = break_secret(how, alice, method_id, "key_ciphertext", make_client)
    login_id = alice.start_login()
    for code in codes[:6]:
        assert_unavailable(alice.verify(login_id, code, method_id))
    assert store.get_method(_account_id(alice.email), method_id, None)["code_hashes"] == hashes
    assert lockout_failures(alice.email) == 0 and attempt_tries(login_id) == 0
    mend()
    assert alice.verify(login_id, codes[0], method_id).status_code == 200


def test_another_method_still_logs_in_while_one_secret_does_not_open(alice, api, make_client):
    """Only the damaged method is out: the message points to another one."""
    codes = api.post("/v1/account/recovery-codes").json
    break_secret("flipped", alice, alice.method_id, "secret_ciphertext", make_client)
    login_id = alice.start_login()
    assert_unavailable(alice.verify(login_id))
    assert alice.verify(login_id, codes["codes"][0], codes["method_id"]).status_code == 200


def test_a_wrong_code_still_counts_when_the_secret_opens(alice):
    """The control: what is given back is only what was never compared."""
    login_id = alice.start_login()
    assert alice.verify(login_id, "000000").status_code == 401
    assert lockout_failures(alice.email) == 1 and attempt_tries(login_id) == 1


# ---------------------------------------------------------------- enrolment

@pytest.mark.parametrize("how", ["flipped", "data_key_missing", "kms_key_disabled"])
def test_confirming_an_enrolment_whose_secret_does_not_open_answers_503_and_leaves_it_pending(
        alice, api, make_client, clock, how):
    started = api.post("/v1/account/methods/totp", {"label": "Tablet"}).json
    method_id = started["method_id"]
    _, mend = break_secret(how, alice, method_id, "secret_ciphertext", make_client)
    before = items()
    confirm = {"code": totp_code(started["secret"], clock.now())}
    assert_unavailable(api.post(f"/v1/account/methods/{method_id}/confirm", confirm))
    assert items() == before   # still pending: no method_added event, no notice, no summary
    mend()
    assert api.post(f"/v1/account/methods/{method_id}/confirm", confirm).status_code == 200


@pytest.mark.parametrize("how", KMS_REFUSALS)
def test_sealing_under_a_refused_kms_key_answers_503_and_adds_nothing(alice, api, make_client, capsys, caplog, how):
    """A container that has not unwrapped the current data key cannot seal a new secret."""
    _, mend = break_secret(how, alice, alice.method_id, "secret_ciphertext", make_client)
    before = items()
    capsys.readouterr()
    caplog.set_level(logging.ERROR)
    assert_unavailable(api.post("/v1/account/methods/totp", {"label": "Tablet"}))
    assert_unavailable(api.post("/v1/account/recovery-codes"))
    logged = [r.getMessage() for r in caplog.records if r.name == "chalicelib.ledger.secrets"]
    assert logged and all("(kms_refused)" in line and "data key the current one" in line for line in logged)
    assert items() == before
    mend()
    assert alice.add_totp()[0]


@pytest.mark.parametrize("how", KMS_REFUSALS)
def test_a_sign_up_under_a_refused_kms_key_answers_503_and_makes_nothing(api, make_client, person, how):
    """The verification link is sealed in its notice: no account, token or notice without it,
    and the sign-up limits' hits are given back (not the person's doing)."""
    someone = Person(make_client(), person.clock, "someone@example.com").onboard()
    _, mend = break_secret(how, someone, someone.method_id, "secret_ciphertext", make_client)
    before = items()
    assert_unavailable(api.post("/v1/accounts", {"email": person.email, "password": person.password}))
    after = items()
    assert [i for i in after if not i["PK"]["S"].startswith("LIMIT")] == [
        i for i in before if not i["PK"]["S"].startswith("LIMIT")]
    hits = {(i["PK"]["S"], i["SK"]["S"]): int(i["hits"]["N"]) for i in before if i["PK"]["S"].startswith("LIMIT")}
    assert all(int(i["hits"]["N"]) == hits.get((i["PK"]["S"], i["SK"]["S"]), 0)
               for i in after if i["PK"]["S"].startswith("LIMIT"))
    mend()
    person.sign_up()


# ---------------------------------------------------------------- the outbox

@pytest.fixture
def streamed(monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setattr("chalicelib.ledger.outbox.get_settings",
                        lambda: get_settings().replace(outbox_delivery="stream"))


def _damage_link(notice: dict) -> None:
    boto3.client("dynamodb").update_item(
        TableName=TABLE, Key={"PK": notice["PK"], "SK": notice["SK"]}, UpdateExpression="SET sealed_link = :c",
        ExpressionAttributeValues={":c": {"B": flipped(notice["sealed_link"]["B"])}})


def test_a_notice_whose_link_does_not_open_does_not_hold_up_its_stream_batch(api, app_module, clock, streamed):
    """It stays pending, named for operators, and the batch's other notices go out; the
    sweeper tries it again and goes on to the rest."""
    from chalicelib.services import outbox as outbox_service

    stream = Stream()
    for email in ("ann@example.com", "ben@example.com"):
        assert api.post("/v1/accounts", {"email": email, "password": "correct horse battery staple"}).status_code == 202
    ann = next(n for n in items_of(sk="OUTBOX") if n["to"]["S"] == "ann@example.com")
    _damage_link(ann)
    assert app_module.outbox_delivery({"Records": stream.batch()}, None) == {"delivered": 1}
    assert mailbox(api, "ben@example.com") and not mailbox(api, "ann@example.com")
    [pending] = outbox_service.status()["pending"]
    assert pending["last_error"] == "SecretUnavailable" and not pending["claimed"]
    clock.advance(3600)
    assert api.post("/v1/accounts", {"email": "cat@example.com", "password": "correct horse battery staple"}
                    ).status_code == 202
    clock.advance(3600)
    assert sweep(app_module) == {"listed": 2, "delivered": 1, "failed": 1}
    assert mailbox(api, "cat@example.com") and len(items_of(sk="OUTBOX")) == 1


@pytest.mark.parametrize("how", KMS_REFUSALS)
def test_a_notice_waits_while_kms_refuses_and_goes_once_the_key_is_back(
        alice, api, app_module, clock, make_client, streamed, how):
    """Sealed by a warm API container; the outbox's container is new when the key is refused."""
    stream = Stream()
    newcomer = Person(make_client(), clock, "newcomer@example.com")
    assert newcomer.api.post("/v1/accounts", {"email": newcomer.email, "password": newcomer.password}
                             ).status_code == 202
    _, mend = break_secret(how, alice, alice.method_id, "secret_ciphertext", make_client)
    assert app_module.outbox_delivery({"Records": stream.batch()}, None) == {"delivered": 0}
    clock.advance(3600)
    assert sweep(app_module)["failed"] == 1 and mailbox(api, newcomer.email) == []
    mend()
    assert sweep(app_module)["delivered"] == 1
    link = mailbox(api, newcomer.email, "Verify your email")[0]["links"][0]
    assert api.post("/v1/accounts/verify-email", {"token": token_in(link)}).status_code == 200


# ---------------------------------------------------------------- python -m ops.keys

def test_ops_reencrypt_names_each_secret_that_does_not_open_and_why_and_seals_the_rest(
        alice, api, make_client, capsys):
    """Secrets under a data key the table lost (a TOTP seed, damaged besides, and a
    recovery-code key): status names the key as missing; reencrypt names each secret with its
    reason, leaves them as they are and exits 1; a healthy secret under a later key is sealed
    again under the current one."""
    recovery = api.post("/v1/account/recovery-codes").json
    lost_key = store.get_current_data_key()["key_id"]
    break_secret("flipped", alice, alice.method_id, "secret_ciphertext", make_client)
    assert keys.main(["rotate"]) == 0
    healthy_id, healthy_secret = alice.add_totp("Healthy")
    alice.clock.advance(1)   # status lists keys by when they were made
    assert keys.main(["rotate"]) == 0
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key={"PK": {"S": "DATAKEY"}, "SK": {"S": f"KEY#{lost_key}"}})
    secrets.forget_keys()
    capsys.readouterr()

    assert keys.main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["missing"] == [{"key_id": lost_key, "secrets": 2}]
    assert [(k["secrets"], k["current"], k["refused"]) for k in status["keys"]] == [(1, False, None), (0, True, None)]
    assert keys.main(["status"]) == 0
    assert f"{lost_key}  MISSING: 2 secret(s) under it do not open" in capsys.readouterr().out

    assert keys.main(["reencrypt"]) == 1
    printed = capsys.readouterr()
    account = _account_id(alice.email)
    for method_id in (alice.method_id, recovery["method_id"]):
        assert (f"does not open (left as it is): method {method_id} of account {account} (data_key_missing: "
                f"the secret names a data key this stage does not have; data key {lost_key})") in printed.err
    assert "1 secret(s) sealed again under the current data key, 0 already were" in printed.out
    assert "2 do not open" in printed.out and "error: 2 secret(s) do not open: see above" in printed.err
    assert alice.secret not in printed.out + printed.err and healthy_secret not in printed.out + printed.err
    secrets.forget_keys()
    alice.clock.advance(30)
    assert alice.login(totp_code(healthy_secret, alice.clock.now()), healthy_id).status_code == 200


def test_ops_reencrypt_names_a_damaged_secret_with_its_reason(alice, make_client, capsys):
    old_key = store.get_current_data_key()["key_id"]
    healthy_id, _ = alice.add_totp("Healthy")
    break_secret("from_another_method", alice, alice.method_id, "secret_ciphertext", make_client)
    assert keys.main(["rotate"]) == 0
    capsys.readouterr()
    assert keys.main(["reencrypt"]) == 1
    printed = capsys.readouterr()
    assert f"method {alice.method_id} of account {_account_id(alice.email)} (does_not_open: " in printed.err
    assert f"data key {old_key})" in printed.err
    assert "2 secret(s) sealed again under the current data key" in printed.out   # Healthy and Other
    assert "1 do not open" in printed.out


@pytest.mark.parametrize("how", KMS_REFUSALS)
def test_ops_keys_while_kms_refuses_the_key_says_so_and_changes_nothing(alice, make_client, capsys, how):
    break_secret(how, alice, alice.method_id, "secret_ciphertext", make_client)
    before = items()
    capsys.readouterr()
    assert keys.main(["status"]) == 0
    refusal = {"kms_key_disabled": "DisabledException", "kms_key_pending_deletion": "KMSInvalidStateException"}[how]
    assert f"(current)  DOES NOT UNWRAP: KMS refused the stage's key: {refusal}" in capsys.readouterr().out
    assert keys.main(["reencrypt"]) == 1
    assert ("error: nothing sealed again: the current data key does not unwrap: KMS refused the stage's key: "
            f"{refusal}") in capsys.readouterr().err
    assert keys.main(["rotate"]) == 1
    assert f"error: no new data key: KMS refused the stage's key: {refusal}" in capsys.readouterr().err
    assert items() == before


# ---------------------------------------------------------------- SMS (legacy) and SSO client secrets

def test_a_legacy_sms_method_whose_phone_does_not_open_answers_503_and_texts_nobody(legacy, make_client):  # noqa: F811
    from tests.test_sms import send, sent_codes

    break_secret("flipped", legacy, legacy.sms_method["id"], "phone_ciphertext", make_client)
    _, sent = send(legacy)
    assert_unavailable(sent)
    assert sent_codes(legacy.api) == []


def test_an_sso_client_secret_that_does_not_open_is_reported_with_its_connection(local_aws, caplog):
    from chalicelib.services.sso import connections
    from tests.support.sso import UNREACHABLE_ISSUER

    added = connections.add_oidc(name="Okta", domains=["example.org"], issuer=UNREACHABLE_ISSUER, client_id="abc",
                                 client_secret="s3cret", operator_arn="arn:aws:iam::1:user/op")
    connection = store.get_connection(added["connection_id"])
    caplog.set_level(logging.ERROR)
    with pytest.raises(secrets.SecretUnavailable) as unavailable:
        connections.client_secret({**connection, "client_secret": flipped(connection["client_secret"])})
    assert unavailable.value.reason == secrets.DOES_NOT_OPEN
    [line] = [r.getMessage() for r in caplog.records if r.name == "chalicelib.ledger.secrets"]
    assert f"connection_id={added['connection_id']}" in line and "s3cret" not in line
