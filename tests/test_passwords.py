"""Changing the password (step-up, policy, other sessions ended, notice) and resetting it
with an emailed link (no enumeration, single use, 1 hour, newest link wins, sessions ended,
pending logins cancelled, the second factor still needed, rate limits)."""
import pytest

from tests.support.journeys import PASSWORD, Person, mailbox, token_in
from tests.test_sessions import make_cli_session

NEW = "a brand new passphrase 2042"
HOUR = 3600


def change(api, current=PASSWORD, new=NEW, **kw):
    return api.post("/v1/account/password", {"current_password": current, "new_password": new}, **kw)


def event_kinds(api) -> list[str]:
    return [e["kind"] for e in api.get("/v1/account/events?limit=100").json["events"]]


def ask_reset(api, email="alice@example.com"):
    return api.post("/v1/password-resets", {"email": email})


def reset_token(api, email="alice@example.com") -> str:
    return token_in(mailbox(api, email, "Reset your password")[0]["links"][0])


def confirm(api, token, new=NEW):
    return api.post("/v1/password-resets/confirm", {"token": token, "new_password": new})


def with_password(person: Person, password: str) -> Person:
    person.password = password
    return person


# ---------------------------------------------------------------- change

def test_change_needs_a_recent_second_factor(alice, api, clock):
    clock.advance(601)
    refused = change(api)
    assert refused.status_code == 403 and refused.json["error"] == "step_up_required"
    assert alice.step_up().status_code == 200
    assert change(api).status_code == 200


def test_change_refuses_a_wrong_current_password(alice, api):
    refused = change(api, current="not my password at all")
    assert refused.status_code == 401 and refused.json["error"] == "wrong_password"
    # Still logged in, and the password is unchanged.
    assert api.get("/v1/account").status_code == 200
    assert "password_change_failed" in event_kinds(api)
    api.post("/v1/logout")
    assert alice.password_step().status_code == 200


@pytest.mark.parametrize("new, code", [("short", "password_too_short"), ("password1234", "password_too_common"),
                                       ("x" * 257, "password_too_long")])
def test_change_follows_the_signup_policy(alice, api, new, code):
    refused = change(api, new=new)
    assert refused.status_code == 400 and refused.json["error"] == code


def test_change_sets_the_new_password_ends_other_sessions_and_mails_a_notice(alice, api, make_client, clock):
    other = alice.in_another_browser(make_client())
    assert other.login().status_code == 200
    account = api.get("/v1/account").json
    cli_token = make_cli_session(account["id"], account["email"])
    bearer = {"authorization": f"Bearer {cli_token}"}
    assert api.get("/v1/account", headers=bearer, browser=False).status_code == 200

    changed = change(api)
    assert changed.status_code == 200 and changed.json == {"status": "ok", "ended_sessions": 2}
    # The current session stays; the other web session and the CLI session are ended.
    assert api.get("/v1/account").status_code == 200
    assert other.api.get("/v1/account").status_code == 401
    assert api.get("/v1/account", headers=bearer, browser=False).status_code == 401
    [session] = api.get("/v1/account/sessions").json["sessions"]
    assert session["current"] is True
    notice = mailbox(api, "alice@example.com", "Your password was changed")[0]
    assert "2 other session(s) were ended" in notice["text"]
    assert "password_changed" in event_kinds(api)
    # The old password no longer logs in; the new one does, with the second factor.
    assert other.password_step().status_code == 401
    with_password(other, NEW)
    clock.advance(30)
    assert other.login().status_code == 200


def test_change_stores_an_argon2id_hash(alice, api):
    from chalicelib import store

    assert change(api).status_code == 200
    stored = store.get_account("alice@example.com", 0)["password_hash"]
    assert stored.startswith("$argon2id$") and NEW not in stored


def test_change_kills_a_pending_reset_link(alice, api):
    ask_reset(api)
    token = reset_token(api)
    assert change(api).status_code == 200
    assert confirm(api, token, "yet another passphrase 77").json["error"] == "invalid_token"


# ---------------------------------------------------------------- reset: request

def test_reset_request_answers_the_same_for_known_and_unknown_emails(alice, api):
    known = ask_reset(api, "alice@example.com")
    unknown = ask_reset(api, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    assert mailbox(api, "alice@example.com", "Reset your password")
    # The unknown address is told nobody has an account with it; no link is in that email.
    [told] = mailbox(api, "nobody@example.com")
    assert told["subject"] == "Password reset requested" and not told["links"]


def test_reset_request_does_the_same_work_for_known_and_unknown_emails(alice, api):
    """The same AWS calls, in the same order: one read, one transaction, one email (timing
    follows the round trips; no password is hashed on either path)."""
    from chalicelib import aws

    calls = []

    def count(model, **_):
        calls.append(model.name)

    for service in ("dynamodb", "ses"):
        aws.client(service).meta.events.register("before-call.*", count)
    ask_reset(api, "alice@example.com")
    known, calls[:] = list(calls), []
    ask_reset(api, "nobody@example.com")
    assert known == calls == ["GetItem", "TransactWriteItems", "SendRawEmail"]


def test_reset_requests_are_rate_limited_per_email(alice, api, clock):
    for _ in range(5):
        assert ask_reset(api).status_code == 202
    limited = ask_reset(api)
    assert limited.status_code == 429 and limited.json["error"] == "rate_limited"
    # Unknown emails are limited alike.
    for _ in range(5):
        assert ask_reset(api, "nobody@example.com").status_code == 202
    assert ask_reset(api, "nobody@example.com").status_code == 429
    assert len(mailbox(api, "alice@example.com", "Reset your password")) == 5
    clock.advance(HOUR)
    assert ask_reset(api).status_code == 202


def test_reset_requests_are_rate_limited_per_ip(api, clock, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("PASSWORD_RESET_LIMIT_PER_IP", "3")
    get_settings.cache_clear()
    for i in range(3):
        assert ask_reset(api, f"someone{i}@example.com").status_code == 202
    assert ask_reset(api, "someone-else@example.com").status_code == 429


# ---------------------------------------------------------------- reset: confirm

def test_reset_sets_the_password_logs_nobody_in_and_still_needs_the_second_factor(alice, api, make_client, clock):
    stranger = make_client()
    ask_reset(stranger)
    done = confirm(stranger, reset_token(stranger))
    assert done.status_code == 200 and done.json == {"status": "ok", "ended_sessions": 1}
    assert "set-cookie" not in {k.lower() for k in done.headers}
    assert stranger.get("/v1/account").status_code == 401
    # Alice's session is ended too.
    assert api.get("/v1/account").status_code == 401
    assert mailbox(api, "alice@example.com", "Your password was reset")
    # The old password is refused; the new one leads to the second factor, not a session.
    assert alice.password_step().status_code == 401
    with_password(alice, NEW)
    started = alice.password_step()
    assert started.status_code == 200 and started.json["login_id"] and not started.json["enrollment_required"]
    assert api.get("/v1/account").status_code == 401
    clock.advance(30)
    assert alice.verify(started.json["login_id"]).status_code == 200
    assert api.get("/v1/account").json["methods_count"] == 1
    assert {"password_reset_requested", "password_reset"} <= set(event_kinds(api))


def test_reset_ends_cli_sessions(alice, api):
    account = api.get("/v1/account").json
    bearer = {"authorization": f"Bearer {make_cli_session(account['id'], account['email'])}"}
    ask_reset(api)
    assert confirm(api, reset_token(api)).json["ended_sessions"] == 2
    assert api.get("/v1/account", headers=bearer, browser=False).status_code == 401


def test_reset_policy_is_the_signup_policy(alice, api):
    ask_reset(api)
    token = reset_token(api)
    refused = confirm(api, token, "password1234")
    assert refused.status_code == 400 and refused.json["error"] == "password_too_common"
    # A refused password does not use the link up.
    assert confirm(api, token).status_code == 200


def test_a_reset_link_works_once(alice, api):
    ask_reset(api)
    token = reset_token(api)
    assert confirm(api, token).status_code == 200
    again = confirm(api, token, "yet another passphrase 77")
    assert again.status_code == 400 and again.json["error"] == "invalid_token"


def test_a_reset_link_works_once_even_racing(alice, api, make_client, race):
    from chalicelib import store

    ask_reset(api)
    token = reset_token(api)
    other = make_client()
    first, second = race(lambda: confirm(api, token, "first racing passphrase 11"),
                         lambda: confirm(other, token, "second racing passphrase 22"),
                         pause_before=(store, "transact"))
    assert sorted([first.status_code, second.status_code]) == [200, 400]
    # The second one, which ran to the end while the first was held, is the one that won.
    assert second.status_code == 200
    alice.password = "second racing passphrase 22"
    assert alice.password_step().status_code == 200


def test_a_reset_link_expires_after_an_hour(alice, api, clock):
    ask_reset(api)
    token = reset_token(api)
    clock.advance(HOUR)
    expired = confirm(api, token)
    assert expired.status_code == 400 and expired.json["error"] == "invalid_token"


def test_a_reset_link_still_works_just_before_the_hour(alice, api, clock):
    ask_reset(api)
    token = reset_token(api)
    clock.advance(HOUR - 1)
    assert confirm(api, token).status_code == 200


def test_the_newest_reset_link_wins(alice, api, clock):
    ask_reset(api)
    older = reset_token(api)
    clock.advance(1)
    ask_reset(api)
    newer = reset_token(api)
    assert older != newer
    assert confirm(api, older).json["error"] == "invalid_token"
    assert confirm(api, newer).status_code == 200


def test_an_unknown_or_other_token_is_refused(alice, api, person):
    assert confirm(api, "not-a-token").json["error"] == "invalid_token"
    # An email verification token is not a reset token.
    bob = Person(api, person.clock, "bob@example.com")
    bob.sign_up(verify=False)
    verify_token = token_in(mailbox(api, "bob@example.com", "Verify your email")[0]["links"][0])
    assert confirm(api, verify_token).json["error"] == "invalid_token"


def test_a_login_begun_before_a_reset_cannot_be_completed_after_it(alice, api, make_client, clock):
    attacker = alice.in_another_browser(make_client())
    login_id = attacker.start_login()
    ask_reset(api)
    assert confirm(api, reset_token(api)).status_code == 200
    clock.advance(30)
    refused = attacker.verify(login_id)
    assert refused.status_code == 410 and refused.json["error"] == "login_expired"
    assert attacker.api.get("/v1/account").status_code == 401


def test_a_login_begun_before_a_change_cannot_be_completed_after_it(alice, api, make_client, clock):
    attacker = alice.in_another_browser(make_client())
    login_id = attacker.start_login()
    assert change(api).status_code == 200
    clock.advance(30)
    assert attacker.verify(login_id).status_code == 410


def test_a_login_begun_after_a_reset_completes(alice, api, clock):
    ask_reset(api)
    assert confirm(api, reset_token(api)).status_code == 200
    with_password(alice, NEW)
    clock.advance(30)
    assert alice.login().status_code == 200


def test_reset_link_carries_the_token_in_the_fragment(alice, api):
    ask_reset(api)
    link = mailbox(api, "alice@example.com", "Reset your password")[0]["links"][0]
    assert link.startswith("http://localhost:8000/reset-password#token=")


def test_guesses_of_the_current_password_are_rate_limited(alice, api, clock):
    for _ in range(20):
        assert change(api, current="not my password at all").status_code == 401
    limited = change(api)
    assert limited.status_code == 429 and limited.json["error"] == "rate_limited"
    clock.advance(600)
    assert alice.step_up().status_code == 200
    assert change(api).status_code == 200


def test_a_login_completed_while_a_reset_is_in_flight_does_not_survive_it(alice, api, make_client, clock, race):
    """The reset has read the sessions and is about to write when a login (password step
    made with the old password) completes: that new session is ended all the same."""
    from chalicelib import store

    attacker = alice.in_another_browser(make_client())
    login_id = attacker.start_login()
    ask_reset(api)
    token = reset_token(api)
    clock.advance(30)
    reset, login = race(lambda: confirm(api, token), lambda: attacker.verify(login_id),
                        pause_before=(store, "transact"))
    assert login.status_code == 200 and reset.status_code == 200
    assert attacker.api.get("/v1/account").status_code == 401
