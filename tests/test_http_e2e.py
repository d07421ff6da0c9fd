"""The real local server (`make run`'s program) on a free port, driven over HTTP:
signup -> mailbox -> verify -> login -> enrol TOTP -> logout -> login with TOTP."""
import http.client
import os
import re
import subprocess
import sys
import time

import pyotp
import pytest
import requests

from tests.support import PROJECT
from tests.support.http import Browser
from tests.support.journeys import PASSWORD, onboarded_browser, token_in
from tests.support.servers import serve_locally

# One LocalStack at a time (they share build/localstack-root): these files run on one test worker.
pytestmark = pytest.mark.xdist_group("localstack")


@pytest.fixture(scope="module", params=["embedded", "dynamodb-local", "localstack"])
def base_url(request):
    """The whole suite runs against the served API three times: embedded moto; moto with
    DynamoDB on DynamoDB Local; everything on LocalStack."""
    with serve_locally(request.param, {"CLI_POLL_INTERVAL_SECONDS": "1"}) as url:
        # the reference CLI polls at the server's interval
        yield url


def test_full_flow_over_http(base_url):
    browser = Browser(base_url)
    email = "e2e@example.com"
    assert browser.call("POST", "/v1/accounts", {"email": email, "password": PASSWORD}).status_code == 202

    token = token_in(browser.mailbox(email)[0]["links"][0])
    assert browser.call("POST", "/v1/accounts/verify-email", {"token": token}).status_code == 200

    started = browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}).json()
    assert started["enrollment_required"] is True and browser.token
    assert browser.call("GET", "/v1/account/sessions").json()["error"] == "mfa_enrollment_required"

    enrolment = browser.call("POST", "/v1/account/methods/totp", {"label": "Phone"}).json()
    totp = pyotp.TOTP(enrolment["secret"])
    now = time.time()
    confirmed = browser.call("POST", f"/v1/account/methods/{enrolment['method_id']}/confirm", {"code": totp.at(now)})
    assert confirmed.status_code == 200 and confirmed.json()["session"]["kind"] == "web"
    assert browser.call("GET", "/v1/account").json()["enrollment_required"] is False

    assert browser.call("POST", "/v1/logout").status_code == 200
    assert browser.token is None
    assert browser.call("GET", "/v1/account").status_code == 401

    started = browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}).json()
    assert started["methods"][0]["id"] == enrolment["method_id"]
    # The next step's code (within the ±1 window) is one not used at confirmation: no waiting.
    verified = browser.call("POST", f"/v1/login/{started['login_id']}/verify",
                            {"method_id": enrolment["method_id"], "code": totp.at(now + 30)})
    assert verified.status_code == 200, verified.json()
    sessions = browser.call("GET", "/v1/account/sessions").json()["sessions"]
    assert [s["current"] for s in sessions].count(True) == 1
    assert sessions[0]["ip"] == "127.0.0.1"



def test_methods_and_recovery_codes_over_http(base_url):
    email = "e2e-methods@example.com"
    browser, first = onboarded_browser(base_url, email, "Phone")

    codes = browser.call("POST", "/v1/account/recovery-codes").json()
    assert len(codes["codes"]) == 10
    browser.call("POST", "/v1/logout")

    started = browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}).json()
    assert "recovery_codes" in [m["type"] for m in started["methods"]]
    verified = browser.call("POST", f"/v1/login/{started['login_id']}/verify",
                            {"method_id": codes["method_id"], "code": codes["codes"][0]})
    assert verified.status_code == 200
    subjects = [m["subject"] for m in browser.mailbox(email)]
    assert subjects[0] == "A recovery code was used"
    assert "New recovery codes were generated" in subjects

    refused = browser.call("DELETE", f"/v1/account/methods/{first['method_id']}", {"confirm": True})
    assert refused.status_code == 409 and refused.json()["error"] == "last_method"
    second = browser.call("POST", "/v1/account/methods/totp", {"label": "Tablet"}).json()
    assert browser.call("POST", f"/v1/account/methods/{second['method_id']}/confirm",
                        {"code": pyotp.TOTP(second["secret"]).now()}).status_code == 200
    removed = browser.call("DELETE", f"/v1/account/methods/{first['method_id']}", {"confirm": True})
    assert removed.status_code == 200
    assert sorted(m["type"] for m in removed.json()["methods"]) == ["recovery_codes", "totp"]
    kinds = [e["kind"] for e in browser.call("GET", "/v1/account/events?limit=5").json()["events"]]
    assert kinds[:2] == ["method_removed", "method_added"]


def mfa(base_url, credentials, *args, **kwargs):
    return subprocess.run([sys.executable, str(PROJECT / "clients" / "cli" / "mfa_cli.py"), "--api", base_url, *args],
                          env={**os.environ, "MFA_CREDENTIALS": str(credentials)}, capture_output=True, text=True,
                          timeout=60, **kwargs)


def test_reference_cli_logs_in_through_the_browser(base_url, tmp_path):
    email = "e2e-cli@example.com"
    browser, _ = onboarded_browser(base_url, email)
    credentials = tmp_path / "netrc"
    cli = subprocess.Popen(
        [sys.executable, str(PROJECT / "clients" / "cli" / "mfa_cli.py"), "--api", base_url, "login", "--no-browser",
         "--client-name", "e2e laptop"],
        env={**os.environ, "MFA_CREDENTIALS": str(credentials)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        first_line = cli.stdout.readline()
        user_code = re.search(r"code ([A-Z]{4}-[A-Z]{4})", first_line).group(1)
        details = browser.call("GET", f"/v1/cli/logins/{user_code}").json()
        assert details["client_name"] == "e2e laptop" and details["ip"] == "127.0.0.1"
        assert details["user_agent"].startswith("mfa-cli/1")
        approved = browser.call("POST", "/v1/cli/logins/approve", {"user_code": user_code, "decision": "approve"})
        assert approved.status_code == 200
        out, err = cli.communicate(timeout=30)
    finally:
        cli.kill()
    assert cli.returncode == 0, err
    assert f"Logged in as {email}" in out
    assert credentials.stat().st_mode & 0o777 == 0o600
    token = re.search(r"password (\S+)", credentials.read_text()).group(1)

    assert mfa(base_url, credentials, "whoami").stdout.strip() == email
    listed = mfa(base_url, credentials, "sessions").stdout
    assert re.search(r"^\* [0-9a-f]{32}  cli", listed, re.M)
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(base_url + "/v1/account", headers=bearer, timeout=10).status_code == 200

    logged_out = mfa(base_url, credentials, "logout")
    assert logged_out.returncode == 0 and not credentials.exists()
    assert requests.get(base_url + "/v1/account", headers=bearer, timeout=10).status_code == 401
    assert "Not logged in" in mfa(base_url, credentials, "whoami").stderr


def test_reference_cli_reports_a_denied_login(base_url, tmp_path):
    browser, _ = onboarded_browser(base_url, "e2e-cli-deny@example.com")
    cli = subprocess.Popen(
        [sys.executable, str(PROJECT / "clients" / "cli" / "mfa_cli.py"), "--api", base_url, "login", "--no-browser"],
        env={**os.environ, "MFA_CREDENTIALS": str(tmp_path / "netrc")}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        user_code = re.search(r"code ([A-Z]{4}-[A-Z]{4})", cli.stdout.readline()).group(1)
        browser.call("POST", "/v1/cli/logins/approve", {"user_code": user_code, "decision": "deny"})
        out, err = cli.communicate(timeout=30)
    finally:
        cli.kill()
    assert cli.returncode == 1 and "denied" in err
    assert not (tmp_path / "netrc").exists()


def test_change_and_reset_the_password_over_http(base_url):
    """Change it on a fresh session; then forgot password -> mailbox -> new password ->
    every session ended -> the next login still needs the TOTP code."""
    email = "e2e-password@example.com"
    browser, enrolment = onboarded_browser(base_url, email)
    totp, now = pyotp.TOTP(enrolment["secret"]), time.time()
    changed = browser.call("POST", "/v1/account/password", {"current_password": PASSWORD,
                                                           "new_password": "changed over http 2044"})
    assert changed.status_code == 200 and changed.json()["ended_sessions"] == 0, changed.text

    stranger = Browser(base_url)
    known = stranger.call("POST", "/v1/password-resets", {"email": email})
    unknown = stranger.call("POST", "/v1/password-resets", {"email": "e2e-nobody@example.com"})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    token = token_in(stranger.mailbox(email, "Reset your password")[0]["links"][0])
    done = stranger.call("POST", "/v1/password-resets/confirm", {"token": token, "new_password": "reset over http 2045"})
    assert done.status_code == 200 and done.json()["ended_sessions"] == 1, done.text
    assert stranger.token is None and browser.call("GET", "/v1/account").status_code == 401
    again = stranger.call("POST", "/v1/password-resets/confirm", {"token": token, "new_password": "reset again 2046"})
    assert again.status_code == 400

    started = browser.call("POST", "/v1/login", {"email": email, "password": "reset over http 2045"}).json()
    assert started["login_id"] and browser.call("GET", "/v1/account").status_code == 401
    verified = browser.call("POST", f"/v1/login/{started['login_id']}/verify",
                            {"method_id": enrolment["method_id"], "code": totp.at(now + 30)})
    assert verified.status_code == 200, verified.text
    assert browser.call("GET", "/v1/account").json()["email"] == email


def test_change_the_email_then_delete_the_account_over_http(base_url):
    """Change email -> link from the mailbox (opened in another browser) -> every session
    ended -> log in with the new address and TOTP -> delete the account -> nothing logs in
    and the address is free again."""
    old, new = "e2e-moving@example.com", "e2e-moved@example.com"
    browser, enrolment = onboarded_browser(base_url, old)
    totp, now = pyotp.TOTP(enrolment["secret"]), time.time()
    asked = browser.call("POST", "/v1/account/email", {"new_email": new})
    assert asked.status_code == 202, asked.text
    token = token_in(browser.mailbox(new, "Confirm your new email address")[0]["links"][0])
    moved = Browser(base_url).call("POST", "/v1/account/email/confirm", {"token": token})
    assert moved.status_code == 200, moved.text
    assert browser.call("GET", "/v1/account").status_code == 401
    assert browser.call("POST", "/v1/login", {"email": old, "password": PASSWORD}).status_code == 401

    started = browser.call("POST", "/v1/login", {"email": new, "password": PASSWORD}).json()
    verified = browser.call("POST", f"/v1/login/{started['login_id']}/verify",
                            {"method_id": enrolment["method_id"], "code": totp.at(now + 30)})
    assert verified.status_code == 200, verified.text
    assert browser.call("GET", "/v1/account").json()["email"] == new

    deleted = browser.call("DELETE", "/v1/account", {"confirm": True})
    assert deleted.status_code == 200, deleted.text
    assert browser.mailbox(new, "Your account was deleted")
    assert browser.call("GET", "/v1/account/sessions").status_code == 401
    assert browser.call("POST", "/v1/login", {"email": new, "password": PASSWORD}).status_code == 401
    assert Browser(base_url).call("POST", "/v1/accounts", {"email": new, "password": PASSWORD}).status_code == 202


def test_password_login_with_the_cli_marker_is_refused_over_http(base_url):
    answer = requests.post(base_url + "/v1/login", json={"email": "a@example.com", "password": PASSWORD},
                           headers={"X-Client": "cli"}, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == "browser_login_required"


def test_the_web_frontend_is_served_on_the_api_origin(base_url):
    for path in ("/", "/login", "/verify-email", "/cli-login", "/account"):
        page = requests.get(base_url + path, timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), path
        assert '<script type="module" src="/app.js">' in page.text
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    script = requests.get(base_url + "/app.js", timeout=10)
    assert script.headers["Content-Type"].startswith("text/javascript") and "navigate" in script.text
    assert requests.get(base_url + "/missing.js", timeout=10).status_code in (403, 404)   # API Gateway's answer
    host, port = base_url.removeprefix("http://").split(":")
    for escape in ("/../app.py", "/..%2fapp.py", "/frontend/../../app.py"):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", escape)   # sent as is, not normalised by a client library
        answer = connection.getresponse()
        assert b"Chalice" not in answer.read() and answer.status != 200, escape
        connection.close()
    assert requests.get(base_url + "/v1/account", timeout=10).status_code == 401   # the API is not shadowed
