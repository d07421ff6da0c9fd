"""Recovery codes: generation, one-time use at login and step-up, regeneration."""
import math
import re
import threading

import boto3
import pytest

from chalicelib.methods.recovery_codes import ALPHABET, CODE_LENGTH
from tests.support.journeys import Person, mailbox

CODE = re.compile(r"^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$")


def generate(api) -> dict:
    response = api.post("/v1/account/recovery-codes")
    assert response.status_code == 201, response.json
    return response.json


def login_with(person: Person, method_id: str, code: str):
    login_id = person.password_step().json["login_id"]
    return person.api.post(f"/v1/login/{login_id}/verify", {"method_id": method_id, "code": code})


def test_ten_easy_to_type_codes_with_at_least_64_bits(alice, api):
    generated = generate(api)
    codes = generated["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(CODE.match(c) for c in codes)
    assert not set("ilo01") & set("".join(codes))
    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 64
    assert generated["type"] == "recovery_codes"


def test_codes_are_shown_once_and_stored_only_as_keyed_hashes(alice, api):
    codes = generate(api)["codes"]
    listed = api.get("/v1/account/methods").json
    assert not any(c in str(listed) for c in codes)
    recovery = next(m for m in listed["methods"] if m["type"] == "recovery_codes")
    assert recovery["remaining"] == 10
    dump = str(boto3.client("dynamodb").scan(TableName="mfa-local")["Items"])
    for code in codes:
        assert code not in dump and code.replace("-", "") not in dump
    assert not any(c in str(mailbox(api)) for c in codes)


def test_log_in_with_a_recovery_code_once(alice, api, clock):
    generated = generate(api)
    code = generated["codes"][3]
    started = alice.password_step().json
    assert {"id": generated["method_id"], "type": "recovery_codes", "label": "Recovery codes"} in started["methods"]
    typed = code.upper().replace("-", " ")  # case and separators do not matter
    used = login_with(alice, generated["method_id"], typed)
    assert used.status_code == 200
    assert used.json["method_used"] == {"id": generated["method_id"], "type": "recovery_codes", "remaining": 9}
    again = login_with(alice, generated["method_id"], code)
    assert again.status_code == 401 and again.json["error"] == "invalid_code"
    recovery = next(m for m in api.get("/v1/account/methods").json["methods"] if m["type"] == "recovery_codes")
    assert recovery["remaining"] == 9
    notice = mailbox(api, alice.email, "A recovery code was used")[0]
    assert "9 recovery code(s) remain" in notice["text"] and "running out" not in notice["text"]
    assert code not in notice["text"]


def test_warning_when_two_or_fewer_remain(alice, api):
    generated = generate(api)
    for code in generated["codes"][:8]:
        assert login_with(alice, generated["method_id"], code).status_code == 200
    latest = mailbox(api, alice.email, "A recovery code was used")[0]
    assert "2 recovery code(s) remain" in latest["text"] and "running out" in latest["text"]


def test_regenerating_invalidates_every_old_code(alice, api, clock):
    old = generate(api)
    alice.step_up()
    new = generate(api)
    assert new["method_id"] == old["method_id"]
    assert not set(old["codes"]) & set(new["codes"])
    for code in old["codes"][:3]:
        assert login_with(alice, old["method_id"], code).status_code == 401
    assert login_with(alice, new["method_id"], new["codes"][0]).status_code == 200
    assert len(mailbox(api, alice.email, "New recovery codes")) == 2


def test_step_up_with_a_recovery_code(alice, api, clock):
    generated = generate(api)
    clock.advance(11 * 60)
    stepped = api.post("/v1/account/step-up", {"method_id": generated["method_id"], "code": generated["codes"][0]})
    assert stepped.status_code == 200 and stepped.json["method_used"]["remaining"] == 9
    assert api.request("PATCH", f"/v1/account/methods/{alice.method_id}", {"label": "x"}).status_code == 200


def test_malformed_codes_are_wrong_codes(alice, api):
    generated = generate(api)
    for code in ("abcd", generated["codes"][0] + "a", "iiii-llll-oooo-0000", "a" * 64):
        assert login_with(alice, generated["method_id"], code).status_code == 401


@pytest.mark.usefixtures("atomic_dynamodb")
def test_a_code_used_twice_concurrently_succeeds_once(alice, api, make_client, clock):
    generated = generate(api)
    browsers = [alice, Person(make_client(), clock, alice.email)]
    login_ids = [b.password_step().json["login_id"] for b in browsers]
    barrier = threading.Barrier(2)
    results = [None, None]

    def use(index):
        barrier.wait()
        results[index] = browsers[index].api.post(
            f"/v1/login/{login_ids[index]}/verify",
            {"method_id": generated["method_id"], "code": generated["codes"][0]}).status_code

    threads = [threading.Thread(target=use, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Exactly one wins; the other is refused as a reused code, or as a second try racing
    # on the same account (429 try_again).
    assert sorted(results) in ([200, 401], [200, 429])


@pytest.mark.usefixtures("atomic_dynamodb")
def test_two_concurrent_first_generations_leave_one_set(alice, api, make_client, clock):
    other = Person(make_client(), clock, alice.email)
    other.method_id, other.secret = alice.method_id, alice.secret
    clock.advance(30)
    assert other.login().status_code == 200
    barrier = threading.Barrier(2)
    results = []

    def generate_once(client):
        barrier.wait()
        results.append(client.post("/v1/account/recovery-codes").status_code)

    threads = [threading.Thread(target=generate_once, args=(c,)) for c in (api, other.api)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) in ([201, 201], [201, 409])
    sets = [m for m in api.get("/v1/account/methods").json["methods"] if m["type"] == "recovery_codes"]
    assert len(sets) == 1


def test_a_regeneration_racing_another_one_is_refused(alice, api, monkeypatch):
    """Two regenerations that read the same set: the second write finds the set already
    replaced and answers 409 instead of showing codes that no longer work."""
    from chalicelib import store

    generate(api)
    method_id = next(m["id"] for m in api.get("/v1/account/methods").json["methods"] if m["type"] == "recovery_codes")
    stale = store.get_method(api.get("/v1/account").json["id"], method_id, 0)
    winner = generate(api)                                   # the other request got there first
    real_get_method = store.get_method
    monkeypatch.setattr(store, "get_method", lambda *a: stale)  # this request read before it
    loser = api.post("/v1/account/recovery-codes")
    monkeypatch.setattr(store, "get_method", real_get_method)
    assert loser.status_code == 409 and loser.json["error"] == "conflict"
    assert login_with(alice, method_id, winner["codes"][0]).status_code == 200
