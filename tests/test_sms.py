"""SMS, deprecated: never added; a legacy (imported) SMS method logs in before the sunset
(2021-11-30 by default) and is refused after it. The clock is moved to either side."""
import re
import sys
from datetime import datetime, timezone

import pytest

from tests.support import PROJECT
from tests.support.journeys import Person

sys.path.insert(0, str(PROJECT / "ops"))
import import_legacy_sms  # noqa: E402

PHONE = "+14155550123"
BEFORE_SUNSET = datetime(2021, 6, 1, 12, tzinfo=timezone.utc).timestamp()
SUNSET = datetime(2021, 11, 30, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def legacy(person, clock):
    """Alice, onboarded in June 2021 with TOTP, and a legacy SMS method imported."""
    clock.t = BEFORE_SUNSET - BEFORE_SUNSET % 30
    person.onboard()
    assert import_legacy_sms.main([person.email, PHONE, "--label", "Old phone", "--enabled-on", "2020-03-01"]) == 0
    methods = person.api.get("/v1/account/methods").json["methods"]
    person.sms_method = next(m for m in methods if m["type"] == "sms")
    person.api.post("/v1/logout")
    return person


def sent_codes(api) -> list[tuple[str, str]]:
    return [(m["to"], re.search(r"\b(\d{6})\b", m["text"]).group(1)) for m in api.get("/_dev/pushes").json["sms"]]


def send(person: Person) -> tuple[str, object]:
    login_id = person.start_login()
    return login_id, person.api.post(f"/v1/login/{login_id}/sms", {"method_id": person.sms_method["id"]})


def test_adding_sms_is_always_refused(person):
    refused = person.api.post("/v1/account/methods/sms", {"phone": PHONE})
    assert refused.status_code == 410 and refused.json["error"] == "sms_deprecated"
    assert "authenticator app" in refused.json["message"] and "security key" in refused.json["message"]
    person.onboard()
    person.step_up()
    again = person.api.post("/v1/account/methods/sms", {"phone": PHONE})
    assert again.status_code == 410 and again.json["error"] == "sms_deprecated"


def test_an_imported_sms_method_is_listed_as_deprecated(legacy, clock):
    method = legacy.sms_method
    assert method["label"] == "Old phone" and method["phone"] == "•••• 0123"
    assert method["deprecated"] is True and method["usable_until"] == "2021-11-30"
    assert "phone_ciphertext" not in method and PHONE not in str(method)


def test_before_the_sunset_a_texted_code_logs_in_once(legacy):
    login_id, sent = send(legacy)
    assert sent.status_code == 201 and sent.json["sent_to"] == "•••• 0123"
    (to, code), = sent_codes(legacy.api)
    assert to == PHONE
    wrong = legacy.api.post(f"/v1/login/{login_id}/verify", {"method_id": legacy.sms_method["id"], "code": "000000"
                                                              if code != "000000" else "111111"})
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_code"
    ok = legacy.api.post(f"/v1/login/{login_id}/verify", {"method_id": legacy.sms_method["id"], "code": code})
    assert ok.status_code == 200 and ok.json["method_used"]["type"] == "sms"

    legacy.api.post("/v1/logout")
    other_login = legacy.start_login()
    reused = legacy.api.post(f"/v1/login/{other_login}/verify", {"method_id": legacy.sms_method["id"], "code": code})
    assert reused.status_code == 401   # bound to the first login, and used


def test_a_code_expires_after_five_minutes(legacy, clock, monkeypatch):
    monkeypatch.setenv("LOGIN_ATTEMPT_SECONDS", "900")   # the attempt outlives the code
    from chalicelib.config import get_settings

    get_settings.cache_clear()
    login_id, _ = send(legacy)
    (_, code), = sent_codes(legacy.api)
    clock.advance(301)
    late = legacy.api.post(f"/v1/login/{login_id}/verify", {"method_id": legacy.sms_method["id"], "code": code})
    assert late.status_code == 401 and late.json["error"] == "invalid_code"
    send_again = legacy.api.post(f"/v1/login/{login_id}/sms", {"method_id": legacy.sms_method["id"]})
    assert send_again.status_code == 201
    (_, fresh), _ = sent_codes(legacy.api)
    ok = legacy.api.post(f"/v1/login/{login_id}/verify", {"method_id": legacy.sms_method["id"], "code": fresh})
    assert ok.status_code == 200


def test_texting_is_rate_limited(legacy, clock):
    for _ in range(5):
        clock.advance(1)
        assert send(legacy)[1].status_code == 201
    limited = send(legacy)[1]
    assert limited.status_code == 429 and limited.json["error"] == "rate_limited"


def test_from_the_sunset_sms_is_refused_and_another_method_is_named(legacy, clock):
    clock.t = SUNSET - 60
    login_id, _ = send(legacy)
    (_, code), = sent_codes(legacy.api)
    clock.t = SUNSET   # the code was sent a minute before; it is used at the sunset
    refused = legacy.api.post(f"/v1/login/{login_id}/verify", {"method_id": legacy.sms_method["id"], "code": code})
    assert refused.status_code == 410 and refused.json["error"] == "sms_sunset"
    assert "2021-11-30" in refused.json["message"] and "recovery code" in refused.json["message"]

    fresh_login, fresh = send(legacy)
    assert fresh.status_code == 410 and fresh.json["error"] == "sms_sunset"
    assert len(sent_codes(legacy.api)) == 1   # nothing more was texted
    clock.advance(30)
    assert legacy.login().status_code == 200   # TOTP still works


def test_after_the_sunset_sms_does_not_count_as_a_way_to_log_in(legacy, clock):
    clock.t = SUNSET + 86400
    legacy.login()
    legacy.step_up()
    totp = next(m for m in legacy.api.get("/v1/account/methods").json["methods"] if m["type"] == "totp")
    refused = legacy.api.delete(f"/v1/account/methods/{totp['id']}", {"confirm": True})
    assert refused.status_code == 409 and refused.json["error"] == "last_method"
    removed = legacy.api.delete(f"/v1/account/methods/{legacy.sms_method['id']}", {"confirm": True})
    assert removed.status_code == 200 and [m["type"] for m in removed.json["methods"]] == ["totp"]


def test_sms_step_up_before_the_sunset(legacy, clock):
    clock.advance(30)
    legacy.login()
    clock.advance(601)
    sent = legacy.api.post("/v1/account/step-up/sms", {"method_id": legacy.sms_method["id"]})
    assert sent.status_code == 201
    (_, code), = sent_codes(legacy.api)
    stepped = legacy.api.post("/v1/account/step-up", {"method_id": legacy.sms_method["id"], "code": code})
    assert stepped.status_code == 200, stepped.json


def test_the_import_tool_checks_its_input(person, clock, capsys):
    clock.t = BEFORE_SUNSET
    enabled = ["--enabled-on", "2020-03-01"]
    assert import_legacy_sms.main(["nobody@example.com", PHONE, *enabled]) == 1
    assert "No verified account" in capsys.readouterr().err
    person.onboard()
    assert import_legacy_sms.main([person.email, "0155 555", *enabled]) == 1
    assert "E.164" in capsys.readouterr().err
    # Only for users who had SMS before January 2021.
    assert import_legacy_sms.main([person.email, PHONE, "--enabled-on", "2021-02-01"]) == 1
    assert "before 2021-01-01" in capsys.readouterr().err
    clock.t = SUNSET   # a method that could never work is not imported
    assert import_legacy_sms.main([person.email, PHONE, *enabled]) == 1
    assert "ended on 2021-11-30" in capsys.readouterr().err


def test_a_text_that_cannot_be_sent_is_a_503(legacy, monkeypatch):
    from chalicelib import sns

    def broken(*args, **kwargs):
        raise RuntimeError("SNS is down")

    monkeypatch.setattr(sns, "send_sms", broken)
    refused = send(legacy)[1]
    assert refused.status_code == 503 and refused.json["error"] == "sms_unavailable"


def test_after_the_sunset_tries_do_not_count_towards_the_lockout(legacy, clock):
    clock.t = SUNSET + 3600
    for _ in range(12):
        login_id = legacy.start_login()
        refused = legacy.api.post(f"/v1/login/{login_id}/verify", {"method_id": legacy.sms_method["id"], "code": "123456"})
        assert refused.status_code == 410 and refused.json["error"] == "sms_sunset"
    clock.advance(30)
    assert legacy.login().status_code == 200   # no lockout after 12 refusals


def test_the_runbooks_import_example_needs_a_later_sunset_in_a_test_stage(person, clock, monkeypatch, capsys):
    """With the default SMS_SUNSET (passed) the import is refused; a test stage that sets a
    later SMS_SUNSET (for the operator command and the API alike) imports, and texts codes."""
    from chalicelib.config import get_settings

    person.onboard()
    example = [person.email, PHONE, "--enabled-on", "2020-06-01"]
    assert import_legacy_sms.main(example) == 1
    assert "ended on 2021-11-30" in capsys.readouterr().err
    monkeypatch.setenv("SMS_SUNSET", "2100-01-01")
    get_settings.cache_clear()
    assert import_legacy_sms.main(example) == 0
    person.sms_method = next(m for m in person.api.get("/v1/account/methods").json["methods"] if m["type"] == "sms")
    person.api.post("/v1/logout")
    assert send(person)[1].status_code == 201
    assert [to for to, _ in sent_codes(person.api)] == [PHONE]
