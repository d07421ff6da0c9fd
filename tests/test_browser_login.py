"""The login page as a person finds it (chromium, as tests/test_browser.py): the attempt's
countdown, an expired attempt told as expired with a working "Start again", a single method
that starts at once with a label said once, errors in plain words, and the push waiting
screen's countdown, spinner and Cancel (which withdraws the request from the phone)."""
import re
import time

import pyotp
import pytest

from tests.support.servers import served_on_localhost
from tests.test_browser import (  # noqa: F401 - fixtures and flows
    Tab, chromium, enrolled, pair_phone_in_the_ui, waiting_for_a_push)

ATTEMPT_SECONDS = 15


@pytest.fixture(scope="module")
def origin():
    """A server whose login attempts last 15 seconds, so that one expires during a test."""
    with served_on_localhost({"LOGIN_ATTEMPT_SECONDS": str(ATTEMPT_SECONDS)}) as origin:
        yield origin


@pytest.fixture
def tab(chromium, origin):  # noqa: F811
    opened = Tab(chromium, origin)
    yield opened
    opened.close()


def with_totp_only(tab, email: str) -> pyotp.TOTP:
    """Sign up and enrol an authenticator app under its default name; logged out."""
    tab.sign_up_and_verify(email)
    tab.password_step(email)
    tab.heading("Set up two-factor verification").wait_for()
    tab.button("Authenticator app", exact=True).click()
    tab.button("Show QR code").click()
    totp = pyotp.TOTP(tab.page.locator(".secret").inner_text())
    tab.page.get_by_label("The 6-digit code the app shows").fill(totp.now())
    tab.button("Confirm").click()
    tab.account_page_ready()
    tab.log_out()
    return totp


def test_a_single_method_starts_at_once_under_a_label_said_once(tab):
    totp = with_totp_only(tab, "login-single@example.com")
    tab.password_step("login-single@example.com")
    tab.heading("Verify it's you").wait_for()
    code = tab.page.get_by_label("6-digit code from Authenticator app")
    code.wait_for()   # no click: the only method's code field is up
    assert tab.button("Authenticator app", exact=True).is_visible()   # the picker, for switching
    assert "Authenticator app: Authenticator app" not in tab.page.locator("main").inner_text()
    assert re.fullmatch(r"Time left to finish this login: 0:1\d\.", tab.page.locator("#login-countdown").inner_text())
    code.fill(totp.at(time.time() + 30))   # the next step's: the current one confirmed the enrolment
    code.press("Enter")
    tab.account_page_ready()


def test_an_expired_attempt_says_so_and_starts_again(tab):
    email = "login-expired@example.com"
    totp = with_totp_only(tab, email)

    def later_on_the_page(route):
        # The page believes it has a minute more than the server gives (a clock off, a laptop
        # asleep): the code is sent after the attempt, and the cookie with it, expired.
        answered = route.fetch()
        route.fulfill(response=answered, json={**answered.json(), "expires_at": answered.json()["expires_at"] + 60})

    tab.page.route("**/v1/login", later_on_the_page)
    tab.password_step(email)
    code = tab.page.get_by_label("6-digit code from Authenticator app")
    code.wait_for()
    time.sleep(ATTEMPT_SECONDS + 1.5)
    code.fill(totp.at(time.time() + 30))
    code.press("Enter")
    tab.heading("This login attempt expired").wait_for()
    assert "another browser" not in tab.page.locator("main").inner_text()
    tab.screenshot("login-expired")
    tab.page.get_by_role("link", name="Start again").click()
    tab.heading("Log in").wait_for()
    assert tab.page.get_by_label("Email address").is_visible()

    # Left alone, the page counts down and says so by itself.
    tab.page.unroute("**/v1/login")
    tab.password_step(email)
    tab.page.get_by_label("6-digit code from Authenticator app").wait_for()
    tab.heading("This login attempt expired").wait_for(timeout=(ATTEMPT_SECONDS + 5) * 1000)


def test_errors_are_told_in_plain_words(tab):
    tab.go("/login")
    tab.page.get_by_label("Email address").fill("ab")
    tab.page.get_by_label("Password").fill("x")
    tab.button("Continue").click()
    said = tab.alert_text()
    assert said == "The email address is too short: at least 3 characters.", said

    tab.page.get_by_label("Email address").fill("alice.example.com")
    tab.button("Continue").click()
    tab.page.locator("main [role=alert]", has_text="must have an @-sign").wait_for()
    said = tab.alert_text()
    assert "Value error" not in said and "String should" not in said and said.startswith("The email address"), said


def test_forgot_password_is_on_the_login_page(tab):
    tab.go("/login")
    tab.page.get_by_role("link", name="Forgot password?").click()
    assert tab.page.url.endswith("/forgot-password")
    assert tab.heading("Something went wrong").count() == 0


def test_the_push_wait_counts_down_and_cancel_withdraws_it_from_the_phone(tab, origin, tmp_path):
    phone = waiting_for_a_push(tab, origin, tmp_path, "login-push-cancel@example.com")
    assert re.fullmatch(r"The request expires in (2:00|1:5\d)\.", tab.page.locator("#push-countdown").inner_text())
    spinner = tab.page.locator("#push-wait .spinner")
    assert spinner.is_visible() and spinner.evaluate("el => getComputedStyle(el).animationName") == "spin"
    tab.page.emulate_media(reduced_motion="reduce")
    assert spinner.evaluate("el => getComputedStyle(el).animationName") == "none"   # a still ring
    assert len(phone.challenges()) == 1
    tab.screenshot("push-waiting")
    tab.button("Cancel").click()
    assert "withdrawn from your phone" in tab.alert_text()
    assert phone.challenges() == []   # the device's own list, from the API
    tab.button("Approve on your phone: My phone").click()   # and a new one can be sent
    tab.page.locator("#push-number").wait_for()
    assert len(phone.challenges()) == 1


def push_from_another_browser(origin: str, email: str) -> None:
    """A push for a login attempt of another browser, sent over HTTP, left unanswered."""
    import requests

    from tests.support.journeys import PASSWORD

    headers = {"Origin": origin, "X-Requested-With": "fetch"}
    started = requests.post(origin + "/v1/login", json={"email": email, "password": PASSWORD}, headers=headers,
                            timeout=10)
    login_cookie = started.headers["Set-Cookie"].split(";")[0]   # Secure: requests keeps it only over https
    push_method = next(m for m in started.json()["methods"] if m["type"] == "push")
    login_id = started.json()["login_id"]
    pushed = requests.post(f"{origin}/v1/login/{login_id}/push", json={"method_id": push_method["id"]},
                           headers={**headers, "Cookie": login_cookie}, timeout=10)
    assert pushed.status_code == 201, pushed.text


def test_a_refused_fourth_push_says_once_when_the_next_is_possible(tab, origin, tmp_path):
    email = "login-push-limit@example.com"
    enrolled(tab, email)
    pair_phone_in_the_ui(tab, origin, tmp_path)
    tab.log_out()
    for _ in range(3):
        push_from_another_browser(origin, email)
    tab.password_step(email)
    tab.button("Approve on your phone: My phone").click()
    said = tab.alert_text()
    assert "already waiting" in said and re.search(r"Try again in (\d+ seconds|2 minutes)\.$", said), said
    assert said.count("Try again") == 1 and "wait two minutes" not in said, said
