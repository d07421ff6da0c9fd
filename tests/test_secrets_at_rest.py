"""Secrets at rest in envelopes (chalicelib/ledger/secrets.py): sealed with AES-GCM under a
data key bound to their account and method, no KMS call on a warm container's login, data
keys rotated with old ones still opening, legacy KMS ciphertexts opened and sealed again, and
`python -m ops.keys`. Every "other container" or concurrent change is staged, not timed."""
import json

import boto3
import pytest

from chalicelib import crypto, store
from chalicelib.ledger import secrets
from ops import keys
from tests.support import LOCAL_STAGE
from tests.support.journeys import totp_code
from tests.support.table import TABLE, items_of


def totp_item() -> dict:
    """Alice's TOTP method as stored (the onboarding's only method)."""
    return next(i for i in items_of(sk_prefix="METHOD#") if "secret_ciphertext" in i)


def account_id() -> str:
    return totp_item()["PK"]["S"].removeprefix("ACCOUNT#")


def stored_method(method_id: str) -> dict:
    return store.get_method(account_id(), method_id, None)


def set_ciphertext(method_id: str, attribute: str, ciphertext: bytes) -> None:
    boto3.client("dynamodb").update_item(
        TableName=TABLE, Key={"PK": {"S": f"ACCOUNT#{account_id()}"}, "SK": {"S": f"METHOD#{method_id}"}},
        UpdateExpression="SET #a = :c", ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":c": {"B": ciphertext}})


def kms_encrypted(plaintext: bytes, context: dict) -> bytes:
    """A secret as the service stored it before envelopes: a KMS ciphertext of its own."""
    return boto3.client("kms").encrypt(KeyId=LOCAL_STAGE["KMS_KEY_ID"], Plaintext=plaintext,
                                       EncryptionContext=context)["CiphertextBlob"]


def recovery_codes(api) -> tuple[str, list[str]]:
    generated = api.post("/v1/account/recovery-codes")
    assert generated.status_code == 201, generated.json
    return generated.json["method_id"], generated.json["codes"]


def with_legacy_recovery_key(api) -> tuple[str, list[str]]:
    """A set of recovery codes whose key is stored as a pre-envelope KMS ciphertext."""
    method_id, codes = recovery_codes(api)
    context = secrets.method_context(account_id(), method_id, "recovery_codes")
    key = secrets.open_secret(stored_method(method_id)["key_ciphertext"], context)
    set_ciphertext(method_id, "key_ciphertext", kms_encrypted(key, context))
    return method_id, codes


def kms_operations(faults) -> list[str]:
    return [operation for _, _, operation in faults.positions("kms")]


# ---------------------------------------------------------------- bound to the item

def test_a_sealed_secret_opens_only_on_its_own_account_and_method(alice):
    ciphertext = totp_item()["secret_ciphertext"]["B"]
    right = secrets.method_context(account_id(), alice.method_id, "totp")
    assert crypto.sealed_key_id(ciphertext) == store.get_current_data_key()["key_id"]
    assert alice.secret.encode() not in ciphertext
    secrets.forget_keys()   # a container that unwraps the data key from the table
    assert secrets.open_secret(ciphertext, right).decode() == alice.secret
    moved = [{**right, "method_id": "f" * 32}, {**right, "account_id": "e" * 32}, {**right, "purpose": "sms"}]
    for context in moved:
        with pytest.raises(crypto.SecretUnreadable):
            secrets.open_secret(ciphertext, context)
    flipped = ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])
    with pytest.raises(crypto.SecretUnreadable):
        secrets.open_secret(flipped, right)


def test_a_legacy_ciphertext_moved_to_another_method_does_not_open(alice):
    right = secrets.method_context(account_id(), alice.method_id, "totp")
    legacy = kms_encrypted(alice.secret.encode(), right)
    assert secrets.open_secret(legacy, right).decode() == alice.secret
    with pytest.raises(crypto.SecretUnreadable):
        secrets.open_secret(legacy, {**right, "method_id": "f" * 32})


# ---------------------------------------------------------------- no KMS call on a warm login

def test_a_warm_container_logs_in_without_calling_kms(alice, clock, faults):
    assert alice.verify(alice.start_login(), "000000").status_code == 401
    clock.advance(30)
    assert alice.login().status_code == 200
    clock.advance(30)
    assert alice.step_up().status_code == 200
    assert kms_operations(faults) == []


def test_a_cold_container_unwraps_the_data_key_once(alice, clock, faults):
    """Its first login reads the data key (one GetItem) and unwraps it (one KMS Decrypt)."""
    from collections import Counter

    secrets.forget_keys()
    assert alice.login().status_code == 200
    cold = Counter((call.service, call.operation) for call in faults.calls)
    faults.calls.clear()
    clock.advance(30)
    assert alice.login().status_code == 200
    warm = Counter((call.service, call.operation) for call in faults.calls)
    assert sorted((cold - warm).elements()) == [("dynamodb", "GetItem"), ("kms", "Decrypt")]
    assert not warm - cold


def test_kms_failing_when_a_cold_container_seals_answers_503_and_adds_nothing(alice, api, faults):
    from tests.support import faults as fault

    secrets.forget_keys()
    faults.fail("kms", fault.SERVER_ERROR, times=fault.ALWAYS)
    methods_before = items_of(sk_prefix="METHOD#")
    refused = api.post("/v1/account/methods/totp", {"label": "Tablet"})
    assert refused.status_code == 503 and refused.json["error"] == "service_unavailable"
    assert items_of(sk_prefix="METHOD#") == methods_before
    faults.clear()
    assert alice.add_totp()[0]


# ---------------------------------------------------------------- the first data key

def test_two_containers_making_the_first_data_key_agree_on_one(local_aws, race):
    """Staged: the first container found no data key and is about to store the one KMS made
    it when the second stores its own; the first then seals with the second's."""
    context = {"purpose": "test"}
    first, second = race(lambda: secrets.seal(b"first", context), lambda: secrets.seal(b"second", context),
                         pause_before=(store, "create_first_data_key"))
    current = store.get_current_data_key()["key_id"]
    assert [k["key_id"] for k in store.list_data_keys()] == [current]
    assert crypto.sealed_key_id(first) == crypto.sealed_key_id(second) == current
    secrets.forget_keys()
    assert (secrets.open_secret(first, context), secrets.open_secret(second, context)) == (b"first", b"second")


# ---------------------------------------------------------------- rotation

def test_after_a_rotation_new_secrets_use_the_new_key_and_old_ones_still_open(alice, clock):
    old = store.get_current_data_key()["key_id"]
    new = secrets.rotate()
    assert new != old
    method_id, secret = alice.add_totp()
    assert crypto.sealed_key_id(stored_method(method_id)["secret_ciphertext"]) == new
    assert crypto.sealed_key_id(stored_method(alice.method_id)["secret_ciphertext"]) == old
    secrets.forget_keys()
    clock.advance(30)
    assert alice.login().status_code == 200
    clock.advance(30)
    assert alice.login(totp_code(secret, clock.now()), method_id).status_code == 200


def test_a_container_takes_up_another_containers_rotation_within_the_cache_age(alice, clock):
    context = {"purpose": "test"}
    secrets.forget_keys()
    old = crypto.sealed_key_id(secrets.seal(b"x", context))   # reads which key is current, now
    # Another container (an operator's command) rotates: this one has the old key in memory.
    key_id = "a" * 32
    plaintext, wrapped = crypto.new_data_key(key_id)
    store.make_data_key_current({"key_id": key_id, "wrapped_key": wrapped, "created_at": int(clock.now())},
                                replaces=old)
    clock.advance(secrets.CURRENT_MAX_AGE - 1)
    assert crypto.sealed_key_id(secrets.seal(b"x", context)) == old
    clock.advance(1)
    sealed = secrets.seal(b"x", context)
    assert crypto.sealed_key_id(sealed) == key_id
    assert secrets.open_secret(sealed, context) == b"x"


def test_two_rotations_from_the_same_key_make_one_current(alice):
    from chalicelib.services import data_keys

    old = store.get_current_data_key()
    store.make_data_key_current({"key_id": "b" * 32, "wrapped_key": old["wrapped_key"], "created_at": 1},
                                replaces=old["key_id"])
    with pytest.raises(store.ConditionFailed):
        store.make_data_key_current({"key_id": "c" * 32, "wrapped_key": old["wrapped_key"], "created_at": 1},
                                    replaces=old["key_id"])
    assert store.get_current_data_key()["key_id"] == "b" * 32
    assert data_keys.rotate() not in (old["key_id"], "b" * 32)


# ---------------------------------------------------------------- legacy KMS ciphertexts

def test_a_legacy_secret_logs_in_and_is_sealed_on_the_way(alice, clock, faults):
    context = secrets.method_context(account_id(), alice.method_id, "totp")
    set_ciphertext(alice.method_id, "secret_ciphertext", kms_encrypted(alice.secret.encode(), context))
    faults.calls.clear()
    assert alice.login().status_code == 200
    assert kms_operations(faults) == ["Decrypt"]
    resealed = totp_item()["secret_ciphertext"]["B"]
    assert crypto.sealed_key_id(resealed) == store.get_current_data_key()["key_id"]
    assert secrets.open_secret(resealed, context).decode() == alice.secret
    faults.calls.clear()
    clock.advance(30)
    assert alice.login().status_code == 200
    assert kms_operations(faults) == []


def test_sealing_a_legacy_secret_on_read_leaves_a_concurrent_change_alone(alice, api, race):
    """Staged: a read of the legacy key is about to store it sealed when a new set of codes
    replaces it; the new set stays, and its codes work."""
    method_id, _ = with_legacy_recovery_key(api)
    read = stored_method(method_id)
    opened, (_, (new_code, *_)) = race(
        lambda: secrets.open_method_secret(account_id(), read, "key_ciphertext", "recovery_codes"),
        lambda: recovery_codes(api), pause_before=(store, "replace_method_secret"))
    assert len(opened) == 32
    assert alice.login(new_code, method_id).status_code == 200


# ---------------------------------------------------------------- python -m ops.keys

def test_ops_rotate_then_reencrypt_seals_everything_under_the_new_key_once(alice, api, clock, capsys):
    from chalicelib.services.sso import connections
    from tests.support.sso import UNREACHABLE_ISSUER

    recovery_id, codes = with_legacy_recovery_key(api)
    connection = connections.add_oidc(name="Okta", domains=["example.org"], issuer=UNREACHABLE_ISSUER,
                                      client_id="abc", client_secret="s3cret", operator_arn="arn:aws:iam::1:user/op")
    old = store.get_current_data_key()["key_id"]
    capsys.readouterr()  # the requests above logged their own lines
    assert keys.main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status == {"current": old, "legacy": 1, "missing": [],
                      "keys": [{"key_id": old, "created_at": status["keys"][0]["created_at"], "secrets": 2,
                                "current": True, "refused": None}]}

    assert keys.main(["rotate"]) == 0
    new = store.get_current_data_key()["key_id"]
    assert f"data key {new} is current" in capsys.readouterr().out
    assert keys.main(["reencrypt"]) == 0
    assert "3 secret(s) sealed again under the current data key, 0 already were" in capsys.readouterr().out
    assert keys.main(["reencrypt"]) == 0
    assert "0 secret(s) sealed again under the current data key, 3 already were" in capsys.readouterr().out

    assert keys.main(["status"]) == 0
    printed = capsys.readouterr().out
    assert f"{new}" in printed and "3 secret(s)  (current)" in printed and "legacy KMS ciphertexts: 0" in printed
    secrets.forget_keys()
    assert connections.client_secret(store.get_connection(connection["connection_id"])) == "s3cret"
    assert alice.login().status_code == 200
    assert alice.login(codes[0], recovery_id).status_code == 200


def test_ops_reencrypt_leaves_a_concurrent_change_alone(alice, api, race, capsys):
    """Staged: the command has read the legacy key and is about to store it sealed when a
    new set of codes replaces it."""
    method_id, _ = with_legacy_recovery_key(api)
    exit_code, (_, (new_code, *_)) = race(lambda: keys.main(["reencrypt"]), lambda: recovery_codes(api),
                                          pause_before=(store, "replace_method_secret"))
    printed = capsys.readouterr().out
    assert exit_code == 0 and "0 secret(s) sealed again" in printed and "1 changed meanwhile" in printed
    assert alice.login(new_code, method_id).status_code == 200


def test_ops_reencrypt_names_a_secret_that_does_not_open_and_fails(alice, api, capsys):
    """A legacy ciphertext copied from another method: left as it is, named, exit code 1."""
    method_id, _ = recovery_codes(api)
    elsewhere = secrets.method_context(account_id(), "f" * 32, "recovery_codes")
    set_ciphertext(method_id, "key_ciphertext", kms_encrypted(b"k" * 32, elsewhere))
    assert keys.main(["reencrypt"]) == 1
    printed = capsys.readouterr()
    assert f"does not open (left as it is): method {method_id} of account {account_id()}" in printed.err
    assert "0 secret(s) sealed again under the current data key, 1 already were" in printed.out
