"""Deleting the account: confirmation and step-up; afterwards nothing logs in (password step,
web and CLI sessions, a CLI login approved but not collected, the paired phone), the email is
free, only the audit events and the tombstone stay, a notice is mailed; a deletion
interrupted after its first transaction leaves nothing that logs in, and finishing it again
completes it."""
import pytest

from tests.support import PROJECT, table
from tests.support.journeys import Person, mailbox
from tests.support.phone import Phone, pair_phone
from tests.test_cli_login import approved_session, poll, start


def delete(api, confirm=True):
    return api.delete("/v1/account", {"confirm": confirm})


@pytest.fixture
def everything(alice, api, make_client, cli, clock):
    """Alice with TOTP, recovery codes, a paired phone, another web session, a CLI session,
    a CLI login approved but not collected and a live password-reset link."""
    assert api.post("/v1/account/recovery-codes", {}).status_code == 201
    alice.phone = Phone(make_client(origin=None), clock)
    alice.push_method = pair_phone(alice, alice.phone)
    assert alice.phone.challenges().status_code == 200
    alice.other = alice.in_another_browser(make_client())
    assert alice.other.login().status_code == 200
    alice.bearer = approved_session(api, cli)
    assert cli.get("/v1/account/sessions", headers=alice.bearer, browser=False).status_code == 200
    uncollected = start(cli, "second laptop")
    assert api.post("/v1/cli/logins/approve", {"user_code": uncollected["user_code"],
                                               "decision": "approve"}).status_code == 200
    alice.uncollected = uncollected["device_code"]
    assert make_client().post("/v1/password-resets", {"email": alice.email}).status_code == 202
    alice.account_id = api.get("/v1/account").json["id"]
    clock.advance(10)
    return alice


def assert_nothing_logs_in(alice, api, cli, clock):
    # /v1/account/sessions reads only the session (/v1/account also reads the account item).
    for who in (api, alice.other.api):
        assert who.get("/v1/account").status_code == 401
        assert who.get("/v1/account/sessions").status_code == 401
    assert cli.get("/v1/account", headers=alice.bearer, browser=False).status_code == 401
    assert cli.get("/v1/account/sessions", headers=alice.bearer, browser=False).status_code == 401
    clock.advance(10)   # the CLI's polling interval
    refused = poll(cli, alice.uncollected)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    assert alice.phone.challenges().status_code == 401
    assert alice.password_step().status_code == 401


def what_is_left(account_id: str) -> list[tuple[str, str]]:
    """Every item that belongs to the account, by key."""
    left = []
    for item in table.items():
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if pk == f"ACCOUNT#{account_id}" or item.get("account_id", {}).get("S") == account_id:
            left.append((pk, sk))
    return left


def assert_all_gone(account_id: str):
    left = what_is_left(account_id)
    # Login attempts and CLI logins (approved, used) go too.
    assert {sk for _, sk in left} <= {"DELETION"} | {
        sk for _, sk in left if sk.startswith("EVENT#")}
    assert not [pk for pk, _ in left if pk.startswith(("SESSION#", "DEVICE#", "CREDENTIAL#", "TOKEN#"))]


def test_deletion_needs_confirmation_and_a_recent_second_factor(alice, api, clock):
    refused = delete(api, confirm=False)
    assert refused.status_code == 400 and refused.json["error"] == "confirmation_required"
    clock.advance(601)
    stale = delete(api)
    assert stale.status_code == 403 and stale.json["error"] == "step_up_required"
    assert api.get("/v1/account").status_code == 200
    assert alice.step_up().status_code == 200
    assert delete(api).status_code == 200


def test_deletion_leaves_nothing_that_logs_in_frees_the_email_and_keeps_the_events(everything, api, cli, clock,
                                                                                    make_client):
    alice = everything
    deleted = delete(api)
    assert deleted.status_code == 200 and deleted.json == {"status": "ok"}
    assert_nothing_logs_in(alice, api, cli, clock)
    assert_all_gone(alice.account_id)
    events = [i for i in table.items_of(sk_prefix="EVENT#") if i["PK"]["S"] == f"ACCOUNT#{alice.account_id}"]
    kinds = {e["kind"]["S"] for e in events}
    assert {"account_deleted", "account_deletion_finished", "method_added", "cli_login"} <= kinds
    assert all("expires_at" in e for e in events)
    [tombstone] = [i for i in table.items_of(sk="DELETION") if i["PK"]["S"] == f"ACCOUNT#{alice.account_id}"]
    assert tombstone["status"]["S"] == "deleted" and "expires_at" in tombstone
    [notice] = mailbox(api, alice.email, "Your account was deleted")
    assert "cannot be restored" in notice["text"]
    # The email is free: a new signup with it works, as a new account.
    again = Person(make_client(), clock, alice.email, "another long passphrase 77").onboard()
    assert again.api.get("/v1/account").json["id"] != alice.account_id


def test_an_interrupted_deletion_logs_nothing_in_and_finishing_it_again_completes_it(everything, api, cli, clock,
                                                                                     monkeypatch, capsys):
    from chalicelib.services import account_deletion

    alice = everything
    # The first transaction holds the header and the sessions and the phone, not the rest.
    monkeypatch.setattr(account_deletion, "MAX_ITEMS", 4 + 3 + 2)
    real_finish = account_deletion.finish

    def crash(*args, **kwargs):
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(account_deletion, "finish", crash)
    assert delete(api).status_code == 500
    assert_nothing_logs_in(alice, api, cli, clock)
    left = what_is_left(alice.account_id)
    assert any(sk.startswith("METHOD#") for _, sk in left)   # the second phase did not run

    # The operator's sweep finishes it; running it again finds nothing to do.
    monkeypatch.setattr(account_deletion, "finish", real_finish)
    monkeypatch.syspath_prepend(str(PROJECT / "ops"))
    import account_deletion as ops_command

    assert ops_command.main(["resume-all"]) == 0
    assert f"account {alice.account_id}: deleted" in capsys.readouterr().out
    assert_all_gone(alice.account_id)
    assert ops_command.main(["resume", alice.account_id]) == 0
    assert account_deletion.resume_all() == []
    assert ops_command.main(["resume", "0" * 32]) == 1


def test_sessions_beyond_the_first_transaction_end_before_it(everything, api, cli, clock, monkeypatch):
    from chalicelib.services import account_deletion

    alice = everything
    # Room for the header, the phone and one session (the asking one) only.
    monkeypatch.setattr(account_deletion, "MAX_ITEMS", 4 + 2 + 1)
    real_finish = account_deletion.finish
    monkeypatch.setattr(account_deletion, "finish", lambda *args, **kwargs: 1 / 0)
    assert delete(api).status_code == 500
    assert_nothing_logs_in(alice, api, cli, clock)
    assert real_finish(alice.account_id) is True
    assert_all_gone(alice.account_id)
