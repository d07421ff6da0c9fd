"""Push approval end to end over HTTP: `make run`'s server (embedded moto, then LocalStack)
and the reference authenticator client (clients/authenticator), which talks to it only over
HTTP, as the phone app does."""
import json
import os
import stat
import time
import urllib.request

import pytest
import requests

from tests.support.journeys import PASSWORD
from tests.support.phone import ApiError, mfa_authenticator, paired_over_http, push_login_over_http, signature_headers
from tests.support.races import race
from tests.support.servers import serve_locally

# One LocalStack at a time (they share build/localstack-root): these files run on one test worker.
pytestmark = pytest.mark.xdist_group("localstack")

ANSWER_SECONDS = 8   # push challenges of this server expire this fast, so that expiry is seen


@pytest.fixture(scope="module", params=["embedded", "localstack"])
def base_url(request):
    with serve_locally(request.param, {"PUSH_CHALLENGE_SECONDS": str(ANSWER_SECONDS)}) as url:
        yield url


def test_pair_confirm_and_log_in_by_approving_the_right_number(base_url, tmp_path, monkeypatch, capsys):
    browser, email, app, method_id = paired_over_http(base_url, tmp_path)
    assert stat.S_IMODE(os.stat(app.state_path).st_mode) == 0o600
    assert "BEGIN PRIVATE KEY" in json.loads(app.state_path.read_text())["private_key"]

    login_id, pushed = push_login_over_http(browser, email, method_id)
    monkeypatch.setenv("MFA_AUTHENTICATOR_STATE", str(app.state_path))
    assert mfa_authenticator.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert pushed["challenge_id"] in listed and "a request to log in" in listed
    # Not the number: the person reads it in the browser and types it.
    assert "NUMBER, with the number your browser shows" in listed and "candidates" not in app.challenges()[0]
    # The person types the number when asked for it.
    monkeypatch.setattr("builtins.input", lambda prompt: f" {pushed['number']} ")
    assert mfa_authenticator.main(["approve", pushed["challenge_id"]]) == 0
    assert "Approved." in capsys.readouterr().out
    # Sent again (its reply lost): the same answer.
    assert app.answer(pushed["challenge_id"], "approve", pushed["number"]) == {"status": "approved", "reason": None}

    assert browser.call("GET", f"/v1/login/{login_id}").json()["status"] == "approved"
    verified = browser.call("POST", f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
    assert verified.status_code == 200 and verified.json()["method_used"]["type"] == "push"
    assert browser.call("GET", "/v1/account").json()["email"] == email

    # The pushes SNS sent are visible in the local AWS, and name only the challenge.
    sent = browser.call("GET", "/_dev/pushes").json()["pushes"]
    assert any(p["challenge_id"] == pushed["challenge_id"] for p in sent)


def test_deny_and_wrong_number(base_url, tmp_path, capsys, monkeypatch):
    browser, email, app, method_id = paired_over_http(base_url, tmp_path)
    monkeypatch.setenv("MFA_AUTHENTICATOR_STATE", str(app.state_path))
    login_id, pushed = push_login_over_http(browser, email, method_id)
    assert mfa_authenticator.main(["deny", pushed["challenge_id"]]) == 0
    assert browser.call("GET", f"/v1/login/{login_id}").json()["status"] == "denied"

    login_id, pushed = push_login_over_http(browser, email, method_id)
    wrong = (pushed["number"] % 89) + 10
    assert mfa_authenticator.main(["approve", pushed["challenge_id"], str(wrong)]) == 2
    assert "not the number the browser shows" in capsys.readouterr().err
    assert browser.call("GET", f"/v1/login/{login_id}").json() == {
        "status": "denied", "challenge_id": pushed["challenge_id"], "expires_at": pushed["expires_at"],
        "reason": "wrong_number"}
    refused = browser.call("POST", f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
    assert refused.status_code == 401 and refused.json()["error"] == "push_denied"
    assert browser.mailbox(email, "wrong number was typed")


def test_an_unanswered_push_expires(base_url, tmp_path):
    browser, email, app, method_id = paired_over_http(base_url, tmp_path)
    login_id, pushed = push_login_over_http(browser, email, method_id)
    time.sleep(ANSWER_SECONDS + 1)
    assert browser.call("GET", f"/v1/login/{login_id}").json()["status"] == "expired"
    with pytest.raises(ApiError) as late:
        app.answer(pushed["challenge_id"], "approve", pushed["number"])
    assert late.value.status == 410


def test_two_answers_race_and_one_wins(base_url, tmp_path):
    """Staged in this process (the server's is out of reach): the first answer is signed
    and held just before it is sent while the two others are answered."""
    browser, email, app, method_id = paired_over_http(base_url, tmp_path)
    _, pushed = push_login_over_http(browser, email, method_id)

    def answer(decision, number=None):
        try:
            return app.answer(pushed["challenge_id"], decision, number)["status"]
        except ApiError as error:
            return error.status

    wrong = (pushed["number"] % 89) + 10
    outcomes = race(lambda: answer("approve", pushed["number"]), lambda: answer("deny"),
                    lambda: answer("approve", wrong), pause_before=(urllib.request, "urlopen"))
    assert outcomes == [409, "denied", 409], outcomes


def test_a_replayed_signed_request_is_refused(base_url, tmp_path):
    browser, email, app, method_id = paired_over_http(base_url, tmp_path)
    _, pushed = push_login_over_http(browser, email, method_id)
    path = f"/v1/devices/{app.state['device_id']}/challenges/{pushed['challenge_id']}"
    body = json.dumps({"decision": "approve", "number": pushed["number"]}).encode()
    headers = {"Content-Type": "application/json", **signature_headers(app._key(), "POST", path, body)}
    first = requests.post(base_url + path, data=body, headers=headers, timeout=10)
    assert first.status_code == 200
    replay = requests.post(base_url + path, data=body, headers=headers, timeout=10)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_signature"


def test_pending_pushes_are_limited(base_url, tmp_path):
    browser, email, app, method_id = paired_over_http(base_url, tmp_path)
    for _ in range(3):
        push_login_over_http(browser, email, method_id)
    login_id = browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}).json()["login_id"]
    fourth = browser.call("POST", f"/v1/login/{login_id}/push", {"method_id": method_id})
    assert fourth.status_code == 429 and fourth.json()["error"] == "push_rate_limited"
    assert len(app.challenges()) == 3


def test_a_fraud_report_emails_the_owner_and_pauses_push(base_url, tmp_path, monkeypatch, capsys):
    browser, email, app, method_id = paired_over_http(base_url, tmp_path)
    monkeypatch.setenv("MFA_AUTHENTICATOR_STATE", str(app.state_path))
    login_id, pushed = push_login_over_http(browser, email, method_id)
    assert mfa_authenticator.main(["report", pushed["challenge_id"]]) == 0
    assert "reported" in capsys.readouterr().out
    mails = [m for m in browser.call("GET", "/_dev/mailbox").json()["messages"]
             if email in m["to"] and "you reported it" in m["subject"]]
    assert mails and "Reference phone" in mails[0]["text"] and "change it now" in mails[0]["text"]
    refused = browser.call("POST", f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
    assert refused.status_code in (401, 410)
    login_id = browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}).json()["login_id"]
    paused = browser.call("POST", f"/v1/login/{login_id}/push", {"method_id": method_id})
    assert paused.status_code == 403 and paused.json()["error"] == "push_blocked"
    assert 0 < int(paused.headers["Retry-After"]) <= 3600


def test_unpair_from_the_app(base_url, tmp_path, monkeypatch):
    browser, email, app, method_id = paired_over_http(base_url, tmp_path)
    monkeypatch.setenv("MFA_AUTHENTICATOR_STATE", str(app.state_path))
    assert mfa_authenticator.main(["push-token", "a-new-token"]) == 0
    assert mfa_authenticator.main(["unpair"]) == 0
    assert not app.state_path.exists()
    login = browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}).json()
    assert [m["type"] for m in login["methods"]] == ["totp"]
