"""The method interface over HTTP: one challenge route pair for every method (login and
step-up), one enrolment route for every type that enrols there; the per-type routes stay."""
from tests.support.journeys import totp_code


def login_started(person) -> str:
    person.api.post("/v1/logout")
    return person.start_login()


def test_a_code_method_needs_no_challenge_and_verifies_after_the_generic_route(alice, clock):
    login_id = login_started(alice)
    challenge = alice.api.post(f"/v1/login/{login_id}/challenges", {"method_id": alice.method_id})
    assert challenge.status_code == 201 and challenge.json == {"type": "none", "expires_at": None}
    verified = alice.api.post(f"/v1/login/{login_id}/verify",
                              {"method_id": alice.method_id, "code": totp_code(alice.secret, clock.now())})
    assert verified.status_code == 200 and verified.json["method_used"]["type"] == "totp"


def test_the_generic_route_refuses_unknown_methods_and_other_browsers(alice, make_client):
    login_id = login_started(alice)
    unknown = alice.api.post(f"/v1/login/{login_id}/challenges", {"method_id": "0" * 32})
    assert unknown.status_code == 404 and unknown.json["error"] == "method_not_found"
    malformed = alice.api.post(f"/v1/login/{login_id}/challenges", {"method_id": "../x"})
    assert malformed.status_code == 400 and malformed.json["error"] == "invalid_request"
    elsewhere = make_client().post(f"/v1/login/{login_id}/challenges", {"method_id": alice.method_id})
    assert elsewhere.status_code == 403 and elsewhere.json["error"] == "login_other_browser"
    assert alice.api.post(f"/v1/login/{'0' * 32}/challenges",
                          {"method_id": alice.method_id}).status_code == 404


def test_the_method_is_read_when_its_challenge_begins(alice, clock, make_client):
    """Added or removed after the password step, a method is found as it is now."""
    login_id = login_started(alice)
    elsewhere = alice.in_another_browser(make_client())   # another browser adds a method meanwhile
    assert elsewhere.login().status_code == 200
    assert elsewhere.step_up().status_code == 200
    tablet_id, _ = elsewhere.add_totp()
    assert alice.api.post(f"/v1/login/{login_id}/challenges",
                          {"method_id": tablet_id}).json == {"type": "none", "expires_at": None}
    assert elsewhere.step_up().status_code == 200
    removed = elsewhere.api.delete(f"/v1/account/methods/{tablet_id}", {"confirm": True})
    assert removed.status_code == 200, removed.json
    gone = alice.api.post(f"/v1/login/{login_id}/challenges", {"method_id": tablet_id})
    assert gone.status_code == 404 and gone.json["error"] == "method_not_found"


def test_step_up_has_the_generic_route_too(alice, clock):
    challenge = alice.api.post("/v1/account/step-up/challenges", {"method_id": alice.method_id})
    assert challenge.status_code == 201 and challenge.json["type"] == "none"
    gone = alice.api.post("/v1/account/step-up/challenges", {"method_id": "0" * 32})
    assert gone.status_code == 404 and gone.json["error"] == "method_not_found"
    alice.api.post("/v1/logout")
    assert alice.api.post("/v1/account/step-up/challenges", {"method_id": alice.method_id}).status_code == 401


def test_one_enrolment_route_for_every_type(person, clock):
    person.sign_up()
    person.password_step()
    started = person.api.post("/v1/account/methods", {"type": "totp", "label": "Phone"})
    assert started.status_code == 201, started.json
    assert started.json["type"] == "totp" and started.json["label"] == "Phone" and started.json["secret"]
    confirmed = person.api.post(f"/v1/account/methods/{started.json['method_id']}/confirm",
                                {"code": totp_code(started.json["secret"], clock.now())})
    assert confirmed.status_code == 200 and confirmed.json["session"]["enrollment_required"] is False
    for body in ({"type": "sms"}, {"type": "nonsense"}, {}, {"type": "totp", "extra": 1}):
        refused = person.api.post("/v1/account/methods", body)
        assert refused.status_code == 400 and refused.json["error"] == "invalid_request", body


def test_the_generic_routes_are_described_in_openapi(api):
    paths = api.get("/openapi.json").json["paths"]
    for path in ("/v1/login/{login_id}/challenges", "/v1/account/step-up/challenges", "/v1/account/methods"):
        assert "post" in paths[path], path


def test_a_legacy_sms_method_is_texted_through_the_generic_route(person, clock):
    import re
    import sys
    from datetime import datetime, timezone

    from tests.support import PROJECT

    sys.path.insert(0, str(PROJECT / "ops"))
    import import_legacy_sms

    june_2021 = datetime(2021, 6, 1, 12, tzinfo=timezone.utc).timestamp()
    clock.t = june_2021 - june_2021 % 30
    person.onboard()
    assert import_legacy_sms.main([person.email, "+14155550123", "--enabled-on", "2020-03-01"]) == 0
    sms_id = next(m["id"] for m in person.api.get("/v1/account/methods").json["methods"] if m["type"] == "sms")
    login_id = login_started(person)
    sent = person.api.post(f"/v1/login/{login_id}/challenges", {"method_id": sms_id})
    assert sent.status_code == 201 and sent.json["type"] == "sms" and sent.json["sent_to_hint"].endswith("0123")
    code = re.search(r"\b(\d{6})\b", person.api.get("/_dev/pushes").json["sms"][-1]["text"]).group(1)
    verified = person.api.post(f"/v1/login/{login_id}/verify", {"method_id": sms_id, "code": code})
    assert verified.status_code == 200 and verified.json["method_used"]["type"] == "sms"
