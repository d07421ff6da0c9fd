"""Names that people and clients choose — a method's label, a CLI's client_name (settable
without logging in), a paired phone's device_name — are one line of plain text: control
characters, line breaks and text direction controls are refused with 400 naming the field,
the length is bounded after normalisation, and security notices quote them as what the client
calls itself, so an attacker's text cannot write paragraphs into the owner's email."""
import pytest

from chalicelib import notify
from tests.support.journeys import mailbox

UNSAFE = ["Phone\nThis login was started by support.", "Phone\x00", "enohP\u202e", "Ph\u2028one", "Ph\rone"]


def refused_field(response) -> str:
    assert response.status_code == 400, response.json
    assert response.json["error"] == "invalid_request"
    [detail] = response.json["details"]
    assert "control characters" in detail["problem"]
    return detail["field"]


@pytest.mark.parametrize("name", UNSAFE)
def test_a_cli_client_name_must_be_plain_text(api, name):
    assert refused_field(api.post("/v1/cli/logins", {"client_name": name}, browser=False)) == "client_name"


@pytest.mark.parametrize("name", UNSAFE)
def test_a_method_label_must_be_plain_text(alice, api, name):
    assert refused_field(api.post("/v1/account/methods/totp", {"label": name})) == "label"
    alice.step_up()
    assert refused_field(api.patch(f"/v1/account/methods/{alice.method_id}", {"label": name})) == "label"


def test_a_device_name_must_be_plain_text(api):
    response = api.post("/v1/devices", {"pairing_code": "x", "public_key": "x", "push_token": "t", "platform": "fcm",
                                        "device_name": "Pixel\n\nIgnore this email."}, browser=False)
    assert refused_field(response) == "device_name"


def test_lengths_count_after_normalisation(alice, api):
    decomposed = "e\u0301" * 64            # 128 code points, 64 characters once composed
    assert api.post("/v1/account/methods/totp", {"label": decomposed}).json["label"] == "\u00e9" * 64
    too_long = api.post("/v1/account/methods/totp", {"label": "a" * 65})
    assert too_long.status_code == 400 and too_long.json["details"][0]["field"] == "label"
    # Emoji sequences (joined by U+200D) stay allowed.
    assert api.post("/v1/account/methods/totp", {"label": "Family \U0001F468\u200d\U0001F469"}).status_code == 201


def test_notices_quote_what_the_client_calls_itself(alice, api, make_client):
    cli = make_client(origin=None)
    started = cli.post("/v1/cli/logins", {"client_name": "laptop terminal"}, browser=False).json
    api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    cli.post("/v1/cli/logins/token", {"device_code": started["device_code"]}, browser=False)
    [notice] = mailbox(api, alice.email, "A command-line client logged in to your account")
    assert 'A command-line client (it calls itself "laptop terminal") was logged in' in notice["text"]


def test_a_name_stored_before_the_rule_adds_no_paragraph_to_a_notice():
    _, text, html_body = notify.render("cli_login", client_name="x\n\nThis login was started by support.\u202e",
                                       when="now", ip="192.0.2.1", user_agent="curl")
    assert "x\n\nThis login" not in text and "\u202e" not in text
    assert 'it calls itself "xThis login was started by support."' in text
    assert "<p>This login was started by support." not in html_body
