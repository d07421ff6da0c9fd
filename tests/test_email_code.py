"""Email one-time codes, a backup method a stage opts into (OPTIONAL_METHODS=email_code):
mailed on request, hashed at rest, bound to their login attempt or session, used once,
10 minutes, 5 an hour."""
import re

import boto3
import pytest

from tests.support.journeys import mailbox, totp_code

SUBJECT = "Your verification code"


def enable(monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("OPTIONAL_METHODS", "email_code")
    get_settings.cache_clear()


def last_code(api, email: str) -> str:
    """The newest code mailed (the dev mailbox lists newest first)."""
    return re.search(r"\b(\d{6})\b", mailbox(api, email, SUBJECT)[0]["text"]).group(1)


@pytest.fixture
def emailer(alice, monkeypatch):
    """Alice with TOTP and an email-code backup, logged out."""
    enable(monkeypatch)
    started = alice.api.post("/v1/account/methods", {"type": "email_code"})
    assert started.status_code == 201, started.json
    assert started.json["sent_to_hint"] == "a•••@example.com"
    confirmed = alice.api.post(f"/v1/account/methods/{started.json['method_id']}/confirm",
                               {"code": last_code(alice.api, alice.email)})
    assert confirmed.status_code == 200, confirmed.json
    alice.email_method_id = started.json["method_id"]
    alice.api.post("/v1/logout")
    return alice


def begin_login(person) -> tuple[str, object]:
    login_id = person.start_login()
    return login_id, person.api.post(f"/v1/login/{login_id}/challenges", {"method_id": person.email_method_id})


def test_off_unless_the_stage_names_it(alice):
    assert "email_code" not in alice.api.get("/v1/account").json["addable_methods"]
    refused = alice.api.post("/v1/account/methods", {"type": "email_code"})
    assert refused.status_code == 403 and refused.json["error"] == "method_disabled"
    assert mailbox(alice.api, alice.email, SUBJECT) == []


def test_a_backup_only_beside_a_method_that_logs_in(person, monkeypatch):
    enable(monkeypatch)
    person.sign_up()
    person.password_step()   # a restricted enrolment session
    assert "email_code" not in person.api.get("/v1/account").json["addable_methods"]
    refused = person.api.post("/v1/account/methods", {"type": "email_code"})
    assert refused.status_code == 403 and refused.json["error"] == "mfa_enrollment_required"


def test_enrolment_needs_the_mailed_code(person, clock, monkeypatch):
    enable(monkeypatch)
    person.onboard()
    assert "email_code" in person.api.get("/v1/account").json["addable_methods"]
    started = person.api.post("/v1/account/methods", {"type": "email_code", "label": "Work mail"})
    wrong = person.api.post(f"/v1/account/methods/{started.json['method_id']}/confirm", {"code": "000000"})
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_code"
    ok = person.api.post(f"/v1/account/methods/{started.json['method_id']}/confirm",
                         {"code": last_code(person.api, person.email)})
    assert ok.status_code == 200 and ok.json["method"]["type"] == "email_code"
    assert ok.json["method"]["label"] == "Work mail"
    listed = person.api.get("/v1/account/methods").json["methods"]
    assert [m["type"] for m in listed] == ["totp", "email_code"]


def test_log_in_with_a_mailed_code(emailer):
    login_id, sent = begin_login(emailer)
    assert sent.status_code == 201
    assert sent.json["type"] == "email_code" and sent.json["sent_to_hint"] == "a•••@example.com"
    mail = mailbox(emailer.api, emailer.email, SUBJECT)[0]
    assert "log in" in mail["text"]
    verified = emailer.api.post(f"/v1/login/{login_id}/verify",
                                {"method_id": emailer.email_method_id, "code": last_code(emailer.api, emailer.email)})
    assert verified.status_code == 200 and verified.json["method_used"]["type"] == "email_code"


def test_a_code_works_once_and_only_for_its_own_login(emailer, make_client, clock):
    login_id, _ = begin_login(emailer)
    code = last_code(emailer.api, emailer.email)
    other_browser = type(emailer)(make_client(), clock)
    other_id = other_browser.start_login()
    elsewhere = other_browser.api.post(f"/v1/login/{other_id}/verify",
                                       {"method_id": emailer.email_method_id, "code": code})
    assert elsewhere.status_code == 401 and elsewhere.json["error"] == "invalid_code"
    body = {"method_id": emailer.email_method_id, "code": code}
    assert emailer.api.post(f"/v1/login/{login_id}/verify", body).status_code == 200
    emailer.api.post("/v1/logout")
    again_id = emailer.start_login()
    reused = emailer.api.post(f"/v1/login/{again_id}/verify", body)
    assert reused.status_code == 401 and reused.json["error"] == "invalid_code"


def test_a_code_expires_after_ten_minutes_and_a_newer_one_replaces_it(emailer, clock, monkeypatch):
    monkeypatch.setenv("LOGIN_ATTEMPT_SECONDS", "1800")   # the attempt outlives the codes
    from chalicelib.config import get_settings

    get_settings.cache_clear()
    login_id, _ = begin_login(emailer)
    first = last_code(emailer.api, emailer.email)
    emailer.api.post(f"/v1/login/{login_id}/challenges", {"method_id": emailer.email_method_id})
    second = last_code(emailer.api, emailer.email)
    if first != second:   # one in a million draws the same code twice
        replaced = emailer.api.post(f"/v1/login/{login_id}/verify", {"method_id": emailer.email_method_id, "code": first})
        assert replaced.status_code == 401
    clock.advance(601)
    expired = emailer.api.post(f"/v1/login/{login_id}/verify", {"method_id": emailer.email_method_id, "code": second})
    assert expired.status_code == 401 and expired.json["error"] == "invalid_code"


def test_five_codes_an_hour(emailer, clock):
    login_id = emailer.start_login()
    body = {"method_id": emailer.email_method_id}
    answers = [emailer.api.post(f"/v1/login/{login_id}/challenges", body).status_code for _ in range(6)]
    assert answers == [201] * 5 + [429]
    clock.advance(3600)
    login_id = emailer.start_login()
    assert emailer.api.post(f"/v1/login/{login_id}/challenges", body).status_code == 201


def test_codes_are_hashed_at_rest(emailer):
    begin_login(emailer)
    code = last_code(emailer.api, emailer.email)
    items = boto3.client("dynamodb").scan(TableName="mfa-local")["Items"]
    assert items and not any(code in str(item) for item in items)


def test_step_up_with_a_mailed_code(emailer, clock):
    assert emailer.login().status_code == 200
    clock.advance(11 * 60)
    sent = emailer.api.post("/v1/account/step-up/challenges", {"method_id": emailer.email_method_id})
    assert sent.status_code == 201 and sent.json["type"] == "email_code"
    assert "confirm a change" in mailbox(emailer.api, emailer.email, SUBJECT)[0]["text"]
    stepped = emailer.api.post("/v1/account/step-up", {"method_id": emailer.email_method_id,
                                                      "code": last_code(emailer.api, emailer.email)})
    assert stepped.status_code == 200 and stepped.json["method_used"]["type"] == "email_code"


def test_it_is_never_the_last_method(emailer, clock):
    assert emailer.login().status_code == 200
    refused = emailer.api.delete(f"/v1/account/methods/{emailer.method_id}", {"confirm": True})
    assert refused.status_code == 409 and refused.json["error"] == "last_method"


def test_a_stage_that_turns_it_off_refuses_codes(emailer, monkeypatch):
    from chalicelib.config import get_settings

    login_id, _ = begin_login(emailer)
    code = last_code(emailer.api, emailer.email)
    monkeypatch.setenv("OPTIONAL_METHODS", "")
    get_settings.cache_clear()
    again = emailer.api.post(f"/v1/login/{login_id}/challenges", {"method_id": emailer.email_method_id})
    assert again.status_code == 403 and again.json["error"] == "method_disabled"
    refused = emailer.api.post(f"/v1/login/{login_id}/verify", {"method_id": emailer.email_method_id, "code": code})
    assert refused.status_code == 403 and refused.json["error"] == "method_disabled"
    assert emailer.api.post(f"/v1/login/{login_id}/verify", {
        "method_id": emailer.method_id, "code": totp_code(emailer.secret, emailer.clock.now())}).status_code == 200


def test_a_code_used_twice_at_once_counts_once(emailer, clock, race):
    """Staged: the first step-up has checked the code and is about to use it up when the
    second uses it; the write that records the code's serial lets only one through."""
    from chalicelib import store

    assert emailer.login().status_code == 200
    clock.advance(11 * 60)
    emailer.api.post("/v1/account/step-up/challenges", {"method_id": emailer.email_method_id})
    body = {"method_id": emailer.email_method_id, "code": last_code(emailer.api, emailer.email)}
    results = race(lambda: emailer.api.post("/v1/account/step-up", body).status_code,
                   lambda: emailer.api.post("/v1/account/step-up", body).status_code,
                   pause_before=(store, "transact"))
    assert results == [401, 200]


def test_served_api_journey_with_the_dev_mailbox():
    """make run's program with OPTIONAL_METHODS=email_code, over HTTP: add the backup, log in
    with an emailed code read from the dev mailbox."""
    from tests.support.journeys import PASSWORD, onboarded_browser
    from tests.support.servers import serve_locally

    def code_for(browser, email):
        return re.search(r"\b(\d{6})\b", browser.mailbox(email, SUBJECT)[0]["text"]).group(1)

    with serve_locally("embedded", {"OPTIONAL_METHODS": "email_code"}) as url:
        email = "mailed@example.com"
        browser, _ = onboarded_browser(url, email)
        assert "email_code" in browser.call("GET", "/v1/account").json()["addable_methods"]
        started = browser.call("POST", "/v1/account/methods", {"type": "email_code"}).json()
        confirmed = browser.call("POST", f"/v1/account/methods/{started['method_id']}/confirm",
                                 {"code": code_for(browser, email)})
        assert confirmed.status_code == 200, confirmed.text
        assert browser.call("POST", "/v1/logout").status_code == 200

        login = browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}).json()
        assert {m["type"] for m in login["methods"]} == {"totp", "email_code"}
        challenge = browser.call("POST", f"/v1/login/{login['login_id']}/challenges",
                                 {"method_id": started["method_id"]})
        assert challenge.status_code == 201 and challenge.json()["type"] == "email_code"
        verified = browser.call("POST", f"/v1/login/{login['login_id']}/verify",
                                {"method_id": started["method_id"], "code": code_for(browser, email)})
        assert verified.status_code == 200 and verified.json()["method_used"]["type"] == "email_code"
        assert browser.call("GET", "/v1/account").status_code == 200


def test_an_enrolment_code_takes_five_guesses(alice, monkeypatch):
    enable(monkeypatch)
    started = alice.api.post("/v1/account/methods", {"type": "email_code"}).json
    confirm = f"/v1/account/methods/{started['method_id']}/confirm"
    wrong = [alice.api.post(confirm, {"code": "000000"}).json["error"] for _ in range(5)]
    assert wrong == ["invalid_code"] * 5
    ended = alice.api.post(confirm, {"code": last_code(alice.api, alice.email)})
    assert ended.status_code == 410 and ended.json["error"] == "enrollment_expired"


def test_a_stage_that_turns_it_off_no_longer_lists_or_activates_it(emailer, monkeypatch):
    from chalicelib.config import get_settings

    assert emailer.login().status_code == 200
    emailer.clock.advance(30)
    assert emailer.step_up().status_code == 200
    started = emailer.api.post("/v1/account/methods", {"type": "email_code", "label": "Second"}).json
    monkeypatch.setenv("OPTIONAL_METHODS", "")
    get_settings.cache_clear()
    refused = emailer.api.post(f"/v1/account/methods/{started['method_id']}/confirm",
                               {"code": last_code(emailer.api, emailer.email)})
    assert refused.status_code == 403 and refused.json["error"] == "method_disabled"
    emailer.api.post("/v1/logout")
    listed = emailer.password_step().json["methods"]
    assert [m["type"] for m in listed] == ["totp"]
