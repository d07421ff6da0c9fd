"""Support-assisted recovery (`python -m ops.recovery`): status shows no secret, unlock lifts a
hard lock and names the operator, a reset of every method waits, a login meanwhile cancels it,
and its completion removes every method, ends every session and brings back enrolment."""
import json
import subprocess
import sys

import pytest

from ops import recovery
from tests.support import PROJECT
from tests.support.journeys import mailbox, totp_code

WAIT = 72 * 3600


@pytest.fixture
def arn(local_aws):
    import boto3

    return boto3.client("sts").get_caller_identity()["Arn"]


def events(email: str, kind: str) -> list[dict]:
    """The account's audit log, as its owner's events page reads it."""
    from chalicelib import store
    from chalicelib.services import audit

    account_id = store.get_account(email, 0)["account_id"]
    return [e for e in audit.page(account_id, 100, None)["events"] if e["kind"] == kind]


def hard_lock(api, clock) -> None:
    import boto3

    account_id = api.get("/v1/account").json["id"]
    boto3.client("dynamodb").put_item(TableName="mfa-local", Item={
        "PK": {"S": f"ACCOUNT#{account_id}"}, "SK": {"S": "LOCKOUT"}, "failures": {"N": "100"},
        "last_failure_at": {"N": str(int(clock.now()))}})


def wait(clock, seconds: int, *apis) -> None:
    """Move the clock, using the sessions of `apis` at most 23 h apart (24 h sliding expiry)."""
    while seconds > 0:
        step = min(seconds, 23 * 3600)
        clock.advance(step)
        seconds -= step
        for api in apis:
            assert api.get("/v1/account").status_code == 200


def status(email: str, capsys) -> dict:
    capsys.readouterr()
    assert recovery.main(["status", email, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_status_lists_methods_lock_logins_and_requests_without_secrets(alice, api, clock, capsys, arn):
    codes = api.post("/v1/account/recovery-codes").json["codes"]
    alice.step_up()
    clock.advance(30)
    api.post("/v1/logout")
    assert alice.login().status_code == 200
    found = status(alice.email, capsys)
    assert sorted(m["type"] for m in found["methods"]) == ["recovery_codes", "totp"]
    totp = next(m for m in found["methods"] if m["type"] == "totp")
    assert totp["label"] == "Phone" and totp["created_at"] and totp["last_used_at"]
    assert set(totp) == {"id", "type", "label", "status", "created_at", "last_used_at"}
    assert found["lock"] == {"failures": 0, "locked_until": None, "hard_locked": False}
    assert found["last_logins"][0]["kind"] == "login_succeeded"
    assert found["open_requests"] == []
    # No secret in any form: not the TOTP seed, not a recovery code, not a ciphertext.
    assert recovery.main(["status", alice.email]) == 0
    for printed in (json.dumps(found), capsys.readouterr().out):
        assert alice.secret not in printed and "ciphertext" not in printed and "hash" not in printed
        assert not any(code in printed for code in codes)
    assert recovery.main(["status", "nobody@example.com"]) == 1


def test_unlock_lifts_a_hard_lock_names_the_operator_and_mails_the_owner(alice, api, clock, capsys, arn):
    hard_lock(api, clock)
    refused = alice.login()
    assert refused.status_code == 403 and refused.json["error"] == "account_locked"
    assert status(alice.email, capsys)["lock"]["hard_locked"] is True

    assert recovery.main(["unlock", alice.email]) == 0
    assert status(alice.email, capsys)["lock"] == {"failures": 0, "locked_until": None, "hard_locked": False}
    assert len(mailbox(api, alice.email, "Your account was unlocked")) == 1
    clock.advance(30)
    assert alice.login().status_code == 200
    unlocked, = events(alice.email, "support_unlock")
    assert unlocked["details"]["operator"] == arn and arn.startswith("arn:aws:")
    assert unlocked["details"]["failures"] == 100
    # Nothing left to lift: refused, nothing recorded.
    assert recovery.main(["unlock", alice.email]) == 1
    assert len(events(alice.email, "support_unlock")) == 1


def test_a_reset_waits_then_removes_every_method_ends_sessions_and_enrolment_follows(alice, api, clock, capsys,
                                                                                     make_client, arn):
    other = alice.in_another_browser(make_client())
    clock.advance(30)
    assert other.login().status_code == 200
    assert recovery.main(["reset-mfa", alice.email, "--reason", "passport checked, ticket 4711"]) == 0
    scheduled = mailbox(api, alice.email, "Your verification methods will be removed")
    assert len(scheduled) == 1
    pending, = status(alice.email, capsys)["open_requests"]
    assert pending["kind"] == "mfa_reset" and pending["operator"] == arn and pending["reason"].startswith("passport")
    event, = events(alice.email, "mfa_reset_scheduled")
    assert event["details"]["operator"] == arn and event["details"]["reason"] == "passport checked, ticket 4711"
    # Only one at a time.
    assert recovery.main(["reset-mfa", alice.email, "--reason", "again"]) == 1

    wait(clock, WAIT - 60, api, other.api)   # not yet: nothing happens
    assert recovery.main(["complete-resets"]) == 0
    assert len(status(alice.email, capsys)["methods"]) == 1
    assert api.get("/v1/account").status_code == 200

    wait(clock, 60, api, other.api)
    assert recovery.main(["complete-resets"]) == 0
    found = status(alice.email, capsys)
    assert found["methods"] == [] and found["open_requests"] == []
    assert api.get("/v1/account").status_code == 401             # every session ended
    assert other.api.get("/v1/account").status_code == 401
    assert len(mailbox(api, alice.email, "Your verification methods were removed")) == 1
    started = alice.password_step()
    assert started.status_code == 200 and started.json["enrollment_required"] is True
    done, = events(alice.email, "mfa_reset_done")
    assert done["details"]["operator"] == arn
    # The old TOTP seed no longer logs in; a second run does nothing.
    assert recovery.main(["complete-resets"]) == 0
    assert len(mailbox(api, alice.email, "Your verification methods were removed")) == 1


def test_a_login_during_the_wait_cancels_the_reset(alice, api, clock, capsys, arn):
    assert recovery.main(["reset-mfa", alice.email, "--reason", "lost phone, says the caller"]) == 0
    clock.advance(WAIT // 2)
    api.post("/v1/logout")
    assert alice.login().status_code == 200
    assert status(alice.email, capsys)["open_requests"] == []
    assert len(mailbox(api, alice.email, "The removal of your verification methods was cancelled")) == 1
    cancelled, = events(alice.email, "mfa_reset_cancelled")
    assert cancelled["details"]["operator"] == arn

    wait(clock, WAIT, api)
    assert recovery.main(["complete-resets"]) == 0
    assert len(status(alice.email, capsys)["methods"]) == 1
    assert api.get("/v1/account").status_code == 200
    assert events(alice.email, "mfa_reset_done") == []
    # A new reset may be scheduled once the old one is gone.
    assert recovery.main(["reset-mfa", alice.email, "--reason", "second call"]) == 0


def test_a_wrong_second_factor_does_not_cancel_the_reset(alice, api, clock, capsys, arn):
    assert recovery.main(["reset-mfa", alice.email, "--reason", "lost phone"]) == 0
    api.post("/v1/logout")
    login_id = alice.start_login()
    assert alice.verify(login_id, "000000").status_code == 401
    found = status(alice.email, capsys)
    assert found["open_requests"][0]["kind"] == "mfa_reset" and found["lock"]["failures"] == 1
    # Unlocking keeps the pending reset.
    assert recovery.main(["unlock", alice.email]) == 0
    assert status(alice.email, capsys)["open_requests"][0]["kind"] == "mfa_reset"
    clock.advance(WAIT - 60)
    begun = alice.start_login()   # its password step before the completion, its second factor after
    clock.advance(60)
    assert recovery.main(["complete-resets"]) == 0
    assert status(alice.email, capsys)["methods"] == []
    late = alice.verify(begun, totp_code(alice.secret, clock.now()))
    assert late.status_code == 404 and late.json["error"] == "method_not_found", late.json


def test_reset_needs_a_reason(alice, capsys):
    with pytest.raises(SystemExit):
        recovery.main(["reset-mfa", alice.email])
    assert recovery.main(["reset-mfa", alice.email, "--reason", "  "]) == 1


def test_runs_as_a_module():
    shown = subprocess.run([sys.executable, "-m", "ops.recovery", "--help"], cwd=PROJECT, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0
    assert all(c in shown.stdout for c in ("status", "unlock", "reset-mfa", "complete-resets"))


def test_a_step_up_during_the_wait_cancels_the_reset_too(alice, api, clock, capsys, arn):
    assert recovery.main(["reset-mfa", alice.email, "--reason", "lost phone"]) == 0
    assert alice.step_up().status_code == 200
    assert status(alice.email, capsys)["open_requests"] == []
    assert len(events(alice.email, "mfa_reset_cancelled")) == 1
