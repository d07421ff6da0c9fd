"""Recovery codes: generation, one-time use at login and step-up, regeneration."""
import math
import re

from chalicelib.methods.recovery_codes import ALPHABET, CODE_LENGTH
from tests.support import table
from tests.support.journeys import mailbox

CODE = re.compile(r"^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$")


def generate(api) -> dict:
    response = api.post("/v1/account/recovery-codes")
    assert response.status_code == 201, response.json
    return response.json


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
    dump = str(table.items())
    for code in codes:
        assert code not in dump and code.replace("-", "") not in dump
    assert not any(c in str(mailbox(api)) for c in codes)


def test_log_in_with_a_recovery_code_once(alice, api, clock):
    generated = generate(api)
    code = generated["codes"][3]
    started = alice.password_step().json
    assert {"id": generated["method_id"], "type": "recovery_codes", "label": "Recovery codes"} in started["methods"]
    typed = code.upper().replace("-", " ")  # case and separators do not matter
    used = alice.login(typed, generated["method_id"])
    assert used.status_code == 200
    assert used.json["method_used"] == {"id": generated["method_id"], "type": "recovery_codes", "remaining": 9}
    again = alice.login(code, generated["method_id"])
    assert again.status_code == 401 and again.json["error"] == "invalid_code"
    recovery = next(m for m in api.get("/v1/account/methods").json["methods"] if m["type"] == "recovery_codes")
    assert recovery["remaining"] == 9
    notice = mailbox(api, alice.email, "A recovery code was used")[0]
    assert "9 recovery code(s) remain" in notice["text"] and "running out" not in notice["text"]
    assert code not in notice["text"]


def test_warning_when_two_or_fewer_remain(alice, api):
    generated = generate(api)
    for code in generated["codes"][:8]:
        assert alice.login(code, generated["method_id"]).status_code == 200
    latest = mailbox(api, alice.email, "A recovery code was used")[0]
    assert "2 recovery code(s) remain" in latest["text"] and "running out" in latest["text"]


def test_regenerating_invalidates_every_old_code(alice, api, clock):
    old = generate(api)
    alice.step_up()
    new = generate(api)
    assert new["method_id"] == old["method_id"]
    assert not set(old["codes"]) & set(new["codes"])
    for code in old["codes"][:3]:
        assert alice.login(code, old["method_id"]).status_code == 401
    assert alice.login(new["codes"][0], new["method_id"]).status_code == 200
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
        assert alice.login(code, generated["method_id"]).status_code == 401


def test_a_code_used_twice_concurrently_succeeds_once(alice, api, make_client, race):
    """Staged: the first has checked the code and is about to use it up when the second
    uses it (its try counted on the account after the first's, so the lockout does not
    keep them apart): only the write removing the code refuses the first."""
    from chalicelib import store

    generated = generate(api)
    browsers = [alice, alice.in_another_browser(make_client())]
    login_ids = [b.start_login() for b in browsers]
    results = race(*[lambda b=b, login_id=login_id: b.verify(login_id, generated["codes"][0],
                                                            generated["method_id"]).status_code
                     for b, login_id in zip(browsers, login_ids)], pause_before=(store, "transact"))
    assert results == [401, 200]


def test_two_concurrent_first_generations_leave_one_set(alice, api, make_client, clock, race):
    """Staged: the first has found no set and is about to write one when the second
    generates."""
    from chalicelib import store

    other = alice.in_another_browser(make_client())
    clock.advance(30)
    assert other.login().status_code == 200
    results = race(lambda: api.post("/v1/account/recovery-codes").status_code,
                   lambda: other.api.post("/v1/account/recovery-codes").status_code,
                   pause_before=(store, "transact"))
    assert sorted(results) in ([201, 201], [201, 409])
    sets = [m for m in api.get("/v1/account/methods").json["methods"] if m["type"] == "recovery_codes"]
    assert len(sets) == 1


def test_a_regeneration_racing_another_one_is_refused(alice, api, race):
    """Two regenerations that read the same set: the second write finds the set already
    replaced and answers 409 instead of showing codes that no longer work. Staged: the loser
    has read the set and is about to replace it when the winner does."""
    from chalicelib import store

    generate(api)
    method_id = next(m["id"] for m in api.get("/v1/account/methods").json["methods"] if m["type"] == "recovery_codes")
    loser, winner = race(lambda: api.post("/v1/account/recovery-codes"), lambda: generate(api),
                         pause_before=(store, "transact"))
    assert loser.status_code == 409 and loser.json["error"] == "conflict"
    assert alice.login(winner["codes"][0], method_id).status_code == 200
