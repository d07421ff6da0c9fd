"""Listing, renaming and removing methods; step-up."""
import pytest

from tests.support.journeys import mailbox, totp_code
from tests.support.table import items_of

MINUTE = 60


def test_list_methods_shows_safe_fields_and_backup_nudge(alice, api):
    listed = api.get("/v1/account/methods").json
    assert listed["backup_recommended"] is True
    [method] = listed["methods"]
    assert method["id"] == alice.method_id and method["type"] == "totp" and method["label"] == "Phone"
    assert method["status"] == "active" and isinstance(method["created_at"], int)
    assert set(method) == {"id", "type", "label", "status", "created_at", "last_used_at", "digits", "period",
                           "algorithm"}
    assert alice.secret not in str(listed)


def test_backup_nudge_goes_once_there_is_a_second_method_and_recovery_codes(alice, api):
    alice.add_totp()
    assert api.get("/v1/account/methods").json["backup_recommended"] is True  # no recovery codes yet
    assert api.post("/v1/account/recovery-codes").status_code == 201
    listed = api.get("/v1/account/methods").json
    assert listed["backup_recommended"] is False
    assert sorted(m["type"] for m in listed["methods"]) == ["recovery_codes", "totp", "totp"]


def test_last_used_is_recorded(alice, api, clock):
    alice.clock.advance(30)
    alice.login()
    [method] = api.get("/v1/account/methods").json["methods"]
    assert method["last_used_at"] == int(clock.now())


def test_rename(alice, api):
    renamed = api.request("PATCH", f"/v1/account/methods/{alice.method_id}", {"label": "  Work phone "})
    assert renamed.status_code == 200 and renamed.json["label"] == "Work phone"
    assert api.get("/v1/account/methods").json["methods"][0]["label"] == "Work phone"
    assert alice.password_step().json["methods"][0]["label"] == "Work phone"
    notice = mailbox(api, alice.email, "renamed")[0]
    assert '"Phone"' in notice["text"] and '"Work phone"' in notice["text"]


def test_rename_unknown_method(alice, api):
    response = api.request("PATCH", "/v1/account/methods/" + "a" * 32, {"label": "x"})
    assert response.status_code == 404 and response.json["error"] == "method_not_found"


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/v1/account/methods/totp", {}),
    ("PATCH", "/v1/account/methods/{id}", {"label": "New"}),
    ("DELETE", "/v1/account/methods/{id}", {"confirm": True}),
    ("POST", "/v1/account/recovery-codes", {}),
    ("DELETE", "/v1/account/sessions?scope=others", None),
])
def test_sensitive_changes_need_a_recent_second_factor(alice, api, clock, method, path, body):
    alice.add_totp()
    path = path.replace("{id}", alice.method_id)
    clock.advance(10 * MINUTE + 1)
    refused = api.request(method, path, body)
    assert refused.status_code == 403 and refused.json["error"] == "step_up_required"
    stepped = alice.step_up()
    assert stepped.status_code == 200
    assert stepped.json["step_up_valid_until"] == stepped.json["mfa_at"] + 600
    assert api.request(method, path, body).status_code in (200, 201)


def test_step_up_window_is_configurable(alice, api, clock, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("STEP_UP_SECONDS", "60")
    get_settings.cache_clear()
    clock.advance(61)
    assert api.post("/v1/account/recovery-codes").json["error"] == "step_up_required"


def test_step_up_refuses_wrong_and_replayed_codes(alice, api, clock):
    clock.advance(11 * MINUTE)
    wrong = api.post("/v1/account/step-up", {"method_id": alice.method_id, "code": "000000"})
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_code"
    assert wrong.json["attempts_remaining"] == 4
    code = totp_code(alice.secret, clock.now())
    assert api.post("/v1/account/step-up", {"method_id": alice.method_id, "code": code}).status_code == 200
    replay = api.post("/v1/account/step-up", {"method_id": alice.method_id, "code": code})
    assert replay.status_code == 401


def test_step_up_ends_the_session_after_five_wrong_codes(alice, api):
    for _ in range(5):
        assert api.post("/v1/account/step-up", {"method_id": alice.method_id, "code": "000000"}).status_code == 401
    ended = api.post("/v1/account/step-up", {"method_id": alice.method_id,
                                             "code": totp_code(alice.secret, alice.clock.now())})
    assert ended.status_code == 401 and ended.json["error"] == "unauthenticated"
    assert api.get("/v1/account").status_code == 401


def test_step_up_failures_count_towards_the_account_lockout(alice, api, make_client):
    for _ in range(4):
        api.post("/v1/account/step-up", {"method_id": alice.method_id, "code": "000000"})
    other = alice.in_another_browser(make_client())
    for _ in range(6):
        other.verify(other.start_login(), "000000")
    locked = alice.step_up()
    assert locked.status_code == 429 and locked.json["error"] == "mfa_locked"


def test_remove_needs_explicit_confirmation(alice, api):
    second, _ = alice.add_totp()
    for body in (None, {}, {"confirm": False}):
        refused = api.delete(f"/v1/account/methods/{second}", body)
        assert refused.status_code == 400
    assert api.delete(f"/v1/account/methods/{second}", {}).json["error"] == "confirmation_required"
    assert len(api.get("/v1/account/methods").json["methods"]) == 2


def test_last_method_cannot_be_removed_and_recovery_codes_do_not_count(alice, api):
    api.post("/v1/account/recovery-codes")
    refused = api.delete(f"/v1/account/methods/{alice.method_id}", {"confirm": True})
    assert refused.status_code == 409 and refused.json["error"] == "last_method"
    assert len(api.get("/v1/account/methods").json["methods"]) == 2


def test_remove_deletes_the_secret_for_good_and_answers_the_rest(alice, api, clock):
    second, _ = alice.add_totp()
    assert len(items_of(sk_prefix="METHOD#")) == 2
    removed = api.delete(f"/v1/account/methods/{alice.method_id}", {"confirm": True})
    assert removed.status_code == 200
    assert [m["id"] for m in removed.json["methods"]] == [second]
    assert [i["SK"]["S"] for i in items_of(sk_prefix="METHOD#")] == [f"METHOD#{second}"]
    clock.advance(30)
    gone = alice.login()
    assert gone.status_code == 404 and gone.json["error"] == "method_not_found"
    assert [m["id"] for m in alice.password_step().json["methods"]] == [second]
    notice = mailbox(api, alice.email, "removed")[0]
    assert "Phone" in notice["text"]


def test_recovery_codes_can_be_removed_while_a_primary_method_remains(alice, api):
    codes = api.post("/v1/account/recovery-codes").json
    assert api.delete(f"/v1/account/methods/{codes['method_id']}", {"confirm": True}).status_code == 200
    assert [m["type"] for m in api.get("/v1/account/methods").json["methods"]] == ["totp"]


def test_concurrent_removal_of_the_last_two_methods_leaves_one(alice, api, make_client, clock, race):
    """Staged: the first has counted two methods and is about to remove one when the second
    removes the other."""
    from chalicelib import store

    second, second_secret = alice.add_totp()
    other = alice.in_another_browser(make_client())
    other.method_id, other.secret = second, second_secret
    clock.advance(30)
    assert other.login().status_code == 200
    results = race(lambda: api.delete(f"/v1/account/methods/{second}", {"confirm": True}).status_code,
                   lambda: other.api.delete(f"/v1/account/methods/{alice.method_id}", {"confirm": True}).status_code,
                   pause_before=(store, "transact"))
    assert sorted(results) == [200, 409]
    assert len(api.get("/v1/account/methods").json["methods"]) == 1


def test_revoke_other_sessions(alice, api, make_client, clock):
    others = []
    for _ in range(2):
        other = alice.in_another_browser(make_client())
        clock.advance(30)
        assert other.login().status_code == 200
        others.append(other)
    alice.step_up()
    revoked = api.request("DELETE", "/v1/account/sessions?scope=others")
    assert revoked.status_code == 200 and revoked.json["revoked"] == 2
    assert all(o.api.get("/v1/account").status_code == 401 for o in others)
    assert api.get("/v1/account").status_code == 200
    assert api.request("DELETE", "/v1/account/sessions").status_code == 400


def test_restricted_session_cannot_add_a_second_method_or_recovery_codes(person, api, make_client):
    person.sign_up()
    person.password_step()
    second_browser = person.in_another_browser(make_client())
    second_browser.password_step()  # another restricted session, same account
    person.enroll_totp()
    refused = second_browser.api.post("/v1/account/methods/totp", {})
    assert refused.status_code == 403 and refused.json["error"] == "step_up_required"
    codes = second_browser.api.post("/v1/account/recovery-codes")
    assert codes.status_code == 403 and codes.json["error"] == "mfa_enrollment_required"
