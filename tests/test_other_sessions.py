"""Sessions after factor changes (issue 12, ASVS 3.3.3): changes of factors answer how many
other sessions exist; ending them ends CLI sessions too, cancels approved CLI logins not yet
collected, and reaches a session the eventually consistent GSI does not show yet."""
import pytest

from tests.support import table
from tests.support.journeys import totp_code


@pytest.fixture
def others(alice, make_client, cli, clock):
    """Alice (a full session, recently verified) with another browser's session and a CLI
    session: (the other browser's person, the CLI's bearer header)."""
    other = alice.in_another_browser(make_client())
    clock.advance(30)
    assert other.login().status_code == 200
    started = cli.post("/v1/cli/logins", {"client_name": "mfa-cli"}, browser=False).json
    assert alice.api.post("/v1/cli/logins/approve", {"user_code": started["user_code"],
                                                     "decision": "approve"}).status_code == 200
    token = poll(cli, started["device_code"]).json["access_token"]
    return other, {"authorization": f"Bearer {token}"}


def poll(cli, device_code):
    return cli.post("/v1/cli/logins/token", {"device_code": device_code}, browser=False)


def end_others(api):
    response = api.delete("/v1/account/sessions?scope=others")
    assert response.status_code == 200, response.json
    return response.json["revoked"]


def still_in(person, bearer) -> tuple[bool, bool]:
    """Whether the other browser and the CLI session still get in."""
    return (person.api.get("/v1/account").status_code == 200,
            person.api.get("/v1/account", headers=bearer, browser=False).status_code == 200)


def stale_index(monkeypatch, hidden: set[str]):
    """GSI1 lagging: the account's session listing misses the sessions whose ids are hidden."""
    from chalicelib import store
    from chalicelib.store import sessions as stored

    original = stored.list_sessions

    def stale(account_id, now):
        return [s for s in original(account_id, now) if s["session_id"] not in hidden]

    monkeypatch.setattr(stored, "list_sessions", stale)
    monkeypatch.setattr(store, "list_sessions", stale)


def newest_session_id(api) -> str:
    listed = api.get("/v1/account/sessions").json["sessions"]
    return max(listed, key=lambda s: (s["created_at"], s["current"]))["id"]


def test_adding_a_method_answers_other_sessions(alice, others, clock):
    started = alice.api.post("/v1/account/methods/totp", {"label": "Tablet"}).json
    confirmed = alice.api.post(f"/v1/account/methods/{started['method_id']}/confirm",
                               {"code": totp_code(started["secret"], clock.now())})
    assert confirmed.status_code == 200
    assert confirmed.json["other_sessions"] == 2
    assert confirmed.json["method"]["label"] == "Tablet" and confirmed.json["session"] is None


def test_recovery_codes_answer_other_sessions_and_none_once_ended(alice, others):
    made = alice.api.post("/v1/account/recovery-codes")
    assert made.status_code == 201 and len(made.json["codes"]) == 10
    assert made.json["other_sessions"] == 2
    assert end_others(alice.api) == 2
    assert alice.api.post("/v1/account/recovery-codes").json["other_sessions"] == 0


def test_removing_a_method_answers_other_sessions(alice, others, clock):
    started = alice.api.post("/v1/account/methods/totp", {"label": "Tablet"}).json
    alice.api.post(f"/v1/account/methods/{started['method_id']}/confirm",
                   {"code": totp_code(started["secret"], clock.now())})
    removed = alice.api.delete(f"/v1/account/methods/{started['method_id']}", {"confirm": True})
    assert removed.status_code == 200, removed.json
    assert removed.json["other_sessions"] == 2
    assert [m["label"] for m in removed.json["methods"]] == ["Phone"]


def test_the_method_list_counts_other_sessions_only_while_a_method_may_be_copied(alice, others):
    from chalicelib import store

    assert alice.api.get("/v1/account/methods").json["other_sessions"] is None
    account_id = alice.api.get("/v1/account").json["id"]
    store.transact([store.op_update_active_method(account_id, alice.method_id, {"suspicious_at": 1})])
    assert alice.api.get("/v1/account/methods").json["other_sessions"] == 2


def test_ending_other_sessions_ends_cli_sessions_and_keeps_the_current_one(alice, others):
    other, bearer = others
    assert still_in(other, bearer) == (True, True)
    assert end_others(alice.api) == 2
    assert still_in(other, bearer) == (False, False)
    assert alice.api.get("/v1/account").status_code == 200
    assert [s["current"] for s in alice.api.get("/v1/account/sessions").json["sessions"]] == [True]


def test_an_approved_cli_login_not_yet_collected_is_cancelled(alice, others, cli):
    started = cli.post("/v1/cli/logins", {"client_name": "mfa-cli"}, browser=False).json
    assert alice.api.post("/v1/cli/logins/approve", {"user_code": started["user_code"],
                                                     "decision": "approve"}).status_code == 200
    end_others(alice.api)
    refused = poll(cli, started["device_code"])
    assert refused.status_code == 400 and refused.json["error"] == "access_denied"
    assert not [i for i in table.items_of(sk="SESSION") if i.get("kind", {}).get("S") == "cli"]


def test_a_session_the_index_does_not_show_yet_is_ended(alice, others, monkeypatch, clock):
    other, bearer = others
    clock.advance(30)
    assert other.login().status_code == 200   # a new session, missing from the index below
    stale_index(monkeypatch, {newest_session_id(alice.api)})
    assert other.api.get("/v1/account").status_code == 200
    end_others(alice.api)
    assert still_in(other, bearer) == (False, False)


def test_a_password_change_ends_a_session_the_index_does_not_show_yet(alice, others, monkeypatch, clock):
    other, bearer = others
    clock.advance(30)
    assert other.login().status_code == 200
    stale_index(monkeypatch, {newest_session_id(alice.api)})
    changed = alice.api.post("/v1/account/password", {"current_password": alice.password,
                                                      "new_password": "a brand new passphrase 42"})
    assert changed.status_code == 200, changed.json
    assert still_in(other, bearer) == (False, False)
    assert alice.api.get("/v1/account").status_code == 200


def test_the_session_list_item_keeps_only_what_is_live(alice, others):
    end_others(alice.api)
    listed = [i for i in table.items() if i["SK"]["S"] == "SESSIONS"]
    assert len(listed) == 1 and len(listed[0]["tokens"]["SS"]) == 1
    assert "cli_logins" not in listed[0]


def test_a_password_reset_ends_a_session_the_index_does_not_show_yet(alice, others, monkeypatch, clock):
    from tests.support.journeys import mailbox, token_in

    other, bearer = others
    clock.advance(30)
    assert other.login().status_code == 200
    stale_index(monkeypatch, {newest_session_id(alice.api)})
    assert alice.api.post("/v1/password-resets", {"email": alice.email}).status_code == 202
    token = token_in(mailbox(alice.api, alice.email, "Reset your password")[0]["links"][0])
    reset = alice.api.post("/v1/password-resets/confirm", {"token": token, "new_password": "a brand new passphrase 42"})
    assert reset.status_code == 200, reset.json
    assert reset.json["ended_sessions"] == 4   # alice, the other browser twice, the CLI
    assert still_in(other, bearer) == (False, False)
    assert alice.api.get("/v1/account").status_code == 401


def test_approved_cli_logins_leave_the_session_list_once_expired(alice, cli, clock):
    started = cli.post("/v1/cli/logins", {"client_name": "mfa-cli"}, browser=False).json
    alice.api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert "cli_logins" in [i for i in table.items() if i["SK"]["S"] == "SESSIONS"][0]
    clock.advance(601)
    alice.step_up()
    assert alice.api.post("/v1/account/recovery-codes").status_code == 201
    assert "cli_logins" not in [i for i in table.items() if i["SK"]["S"] == "SESSIONS"][0]


def test_an_authenticated_request_still_reads_once_and_writes_nothing(alice, monkeypatch):
    from chalicelib.store import engine

    calls = []
    real = engine._db()

    class Counting:
        def __getattr__(self, name):
            method = getattr(real, name)
            return lambda *a, **kw: (calls.append(name), method(*a, **kw))[1]

    monkeypatch.setattr(engine, "_db", lambda: Counting())
    assert alice.api.get("/v1/account/sessions").status_code == 200
    reads = [c for c in calls if c in ("get_item", "batch_get_item", "transact_get_items")]
    assert reads == ["get_item"] and not [c for c in calls if "write" in c or "put" in c or "update" in c]
