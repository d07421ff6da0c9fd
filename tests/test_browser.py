"""The reference web frontend in a real browser: Debian's chromium driven by Playwright, with
WebAuthn virtual authenticators from the DevTools protocol ("usb" for security keys,
"internal" with user verification for built-in authenticators), against `make run`'s
server. Pages are opened at http://localhost:PORT: WebAuthn refuses an IP address for the
RP ID `localhost`. Screenshots land in build/screenshots/ (not in git) for reviewers."""
import os
import re
import shutil

import pyotp
import pytest

from tests.support import PROJECT
from tests.support.journeys import PASSWORD
from tests.support.phone import Authenticator
from tests.support.servers import served_on_localhost

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = PROJECT / "build" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
SECURITY_KEY = {"protocol": "ctap2", "transport": "usb", "hasResidentKey": False, "hasUserVerification": False,
                "automaticPresenceSimulation": True}
BUILT_IN = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}


@pytest.fixture(scope="module")
def origin():
    # The stage offers the optional email-code backup too, as a stage that opts in would.
    with served_on_localhost({"OPTIONAL_METHODS": "email_code"}) as origin:
        yield origin


@pytest.fixture(scope="module")
def chromium():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt")
        pytest.skip("NOT TESTED IN A BROWSER: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class Tab:
    """One browser profile with its page and its virtual authenticators."""

    def __init__(self, chromium, origin):
        self.origin = origin
        self.context = chromium.new_context()
        # A wait's limit guards against a hang; it is no speed check. 15 s once ran out in CI on
        # a 2-core machine busy with the suite's other worker (the dev mailbox's page).
        self.context.set_default_timeout(30_000)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # For a failing test's report (describe): API calls not answered, failed or refused.
        self.unanswered = {}
        self.refused = []
        self.page.on("request", lambda request: self.unanswered.setdefault(id(request), request))
        self.page.on("requestfinished", self._finished)
        self.page.on("requestfailed", self._failed)
        self.devtools = self.context.new_cdp_session(self.page)
        self.devtools.send("WebAuthn.enable")

    def _finished(self, request) -> None:
        self.unanswered.pop(id(request), None)
        response = request.response()
        if response is not None and response.status >= 400:
            try:
                body = response.text()[:300]
            except Exception as error:   # a body the browser did not keep
                body = f"(body not kept: {error})"
            self.refused.append(f"{request.method} {request.url} -> {response.status} {body}")

    def _failed(self, request) -> None:
        self.unanswered.pop(id(request), None)
        self.refused.append(f"{request.method} {request.url} -> failed: {request.failure}")

    def describe(self) -> str:
        """What the page shows and what it asked the server: for a failing test's report."""
        try:
            shown = self.page.locator("body").inner_text(timeout=2_000)
        except Exception as error:   # a closed or hung page is told, not raised over the test's failure
            shown = f"(the page could not be read: {error})"
        still_waiting = [f"{request.method} {request.url}" for request in self.unanswered.values()]
        return "\n".join([f"address: {self.page.url}", "shown:", shown,
                          "requests still waiting:", *(still_waiting or ["none"]),
                          "requests refused or failed:", *(self.refused or ["none"]),
                          "page errors:", *(self.errors or ["none"])])

    def add_authenticator(self, options: dict) -> str:
        return self.devtools.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]

    def remove_authenticator(self, authenticator_id: str) -> None:
        self.devtools.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})

    def credentials(self, authenticator_id: str) -> list[dict]:
        return self.devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]

    def go(self, path: str) -> None:
        self.page.goto(self.origin + path)

    def button(self, name: str, exact: bool = False):
        return self.page.get_by_role("button", name=name, exact=exact)

    def heading(self, name: str):
        return self.page.get_by_role("heading", name=name)

    def alert_text(self) -> str:
        alert = self.page.locator("main [role=alert]:not(:empty), dialog [role=alert]:not(:empty)").first
        alert.wait_for()
        return alert.inner_text()

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    # ---- flows a person goes through

    def sign_up_and_verify(self, email: str) -> None:
        self.go("/signup")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.button("Create account").click()
        self.heading("Check your email").wait_for()
        self.page.locator("main").get_by_role("link", name="dev mailbox").click()
        self.heading("Dev mailbox").wait_for()
        self.page.locator("article", has_text=email).locator("a[href*='/verify-email#token=']").first.click()
        self.page.get_by_text("Your email address is verified").wait_for()

    def password_step(self, email: str) -> None:
        self.go("/login")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.button("Continue").click()

    def log_out(self) -> None:
        self.button("Log out", exact=True).click()
        self.page.get_by_text("You are logged out").wait_for()

    def account_page_ready(self) -> None:
        self.heading("Your account").wait_for()
        self.heading("Security log").wait_for()

    def close(self) -> None:
        assert self.errors == [], self.errors
        self.context.close()


@pytest.fixture
def tab(chromium, origin):
    opened = Tab(chromium, origin)
    yield opened
    opened.close()


def enrolled(tab, email: str) -> str:
    """Sign up and enrol this browser's built-in authenticator: the account page is shown."""
    authenticator = tab.add_authenticator(BUILT_IN)
    tab.sign_up_and_verify(email)
    tab.password_step(email)
    tab.button("Built-in authenticator").click()
    tab.button("Register built-in authenticator").click()
    tab.account_page_ready()
    return authenticator


def test_sign_up_enrol_built_in_log_out_and_log_in_with_it(tab):
    built_in = tab.add_authenticator(BUILT_IN)
    tab.sign_up_and_verify("browser-built-in@example.com")
    tab.password_step("browser-built-in@example.com")
    tab.heading("Set up two-factor verification").wait_for()
    tab.button("Built-in authenticator").click()
    tab.page.get_by_label("Name", exact=True).fill("Test laptop")
    tab.button("Register built-in authenticator").click()
    tab.account_page_ready()
    assert tab.page.locator("tr", has_text="Test laptop").get_by_text("Built-in authenticator").is_visible()
    assert tab.page.locator("#backup-nudge").is_visible()
    assert len(tab.credentials(built_in)) == 1

    tab.log_out()
    tab.screenshot("login")
    tab.password_step("browser-built-in@example.com")
    tab.heading("Verify it's you").wait_for()
    tab.button("Use this device's built-in authenticator").click()
    tab.account_page_ready()
    assert tab.page.locator("#events td").first.inner_text().startswith("Login succeeded (Built-in authenticator)")
    assert tab.credentials(built_in)[0]["signCount"] >= 2


def test_add_a_security_key_and_log_in_with_it(tab):
    email = "browser-key@example.com"
    built_in = enrolled(tab, email)

    key = tab.add_authenticator(SECURITY_KEY)
    tab.button("Security key", exact=True).click()
    tab.page.get_by_label("Name", exact=True).fill("Blue YubiKey")
    tab.button("Register security key").click()
    tab.page.get_by_text("Blue YubiKey was added.").wait_for()
    assert len(tab.credentials(key)) == 1

    tab.log_out()
    tab.remove_authenticator(built_in)   # only the key can answer now
    tab.password_step(email)
    tab.button("Use a security key").click()
    tab.account_page_ready()
    assert tab.page.locator("#events td").first.inner_text().startswith("Login succeeded (Security key)")
    tab.screenshot("account")


def test_manage_methods_recovery_codes_and_sessions_in_the_ui(tab, chromium, origin):
    email = "browser-manage@example.com"
    enrolled(tab, email)

    # An authenticator app, scanned from the QR code (its key is shown beside it).
    tab.button("Authenticator app", exact=True).click()
    tab.page.get_by_label("Name", exact=True).fill("Phone")
    tab.button("Show QR code").click()
    tab.page.locator(".qr svg").wait_for()
    secret = tab.page.locator(".secret").inner_text()
    tab.page.get_by_label("The 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    tab.button("Confirm").click()
    tab.page.get_by_text("Phone was added.").wait_for()
    assert tab.page.locator("#backup-nudge").is_visible()   # still no recovery codes

    # Rename it.
    tab.button("Rename Phone").click()
    tab.page.get_by_label("New name").fill("Work phone")
    tab.button("Save").click()
    tab.page.locator("tr[data-method-id]", has_text="Work phone").wait_for()

    # Recovery codes: shown once, with copy and download.
    tab.button("Generate recovery codes").click()
    codes = tab.page.get_by_role("list", name="Recovery codes").locator("li")
    codes.first.wait_for()
    shown = codes.all_inner_texts()
    assert len(shown) == 10 and all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", c) for c in shown)
    with tab.page.expect_download() as download:
        tab.page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "recovery-codes.txt"
    with open(download.value.path()) as saved:
        assert saved.read().split() == shown
    tab.button("I have saved them").click()
    # The page reads the methods again and redraws them, then the codes section (the shown codes
    # go): wait for that, or the redraw would take away the removal's confirmation opened below.
    tab.page.locator("#new-codes").wait_for(state="detached")
    tab.page.get_by_text("10 of 10 codes left.").wait_for()
    assert not tab.page.locator("#backup-nudge").is_visible()

    # Remove, with a confirmation.
    tab.button("Remove Work phone").click()
    tab.button("Keep it").wait_for()
    tab.button("Yes, remove Work phone").click()
    tab.page.locator("tr[data-method-id]", has_text="Work phone").wait_for(state="detached")

    # A second browser logs in; this one ends it.
    other = Tab(chromium, origin)
    other.add_authenticator(BUILT_IN)
    try:
        other.password_step(email)
        other.heading("Verify it's you").wait_for()
        other.page.get_by_role("button", name="Use a recovery code").click()
        other.page.get_by_label("One of your recovery codes").fill(shown[0])
        other.button("Verify").click()
        other.account_page_ready()
        tab.go("/account")
        tab.account_page_ready()
        tab.button("Log out all other sessions").click()
        tab.page.get_by_text("1 other session ended.").wait_for()
        other.go("/account")
        other.heading("Log in").wait_for()

        # It logs in again; new recovery codes offer to end it right there.
        other.password_step(email)
        other.heading("Verify it's you").wait_for()
        other.page.get_by_role("button", name="Use a recovery code").click()
        other.page.get_by_label("One of your recovery codes").fill(shown[1])
        other.button("Verify").click()
        other.account_page_ready()
        tab.button("Generate new recovery codes").click()
        tab.button("End 1 other session").click()
        tab.page.get_by_text("1 other session ended.").wait_for()
        other.go("/account")
        other.heading("Log in").wait_for()
    finally:
        other.close()


def test_a_cancelled_ceremony_shows_a_clear_message(tab):
    email = "browser-cancel@example.com"
    built_in = enrolled(tab, email)
    tab.log_out()

    # The person fails or dismisses the fingerprint prompt.
    tab.devtools.send("WebAuthn.setUserVerified", {"authenticatorId": built_in, "isUserVerified": False})
    tab.password_step(email)
    tab.button("Use this device's built-in authenticator").click()
    assert "cancelled or timed out" in tab.alert_text()
    assert tab.heading("Verify it's you").is_visible()


def test_the_wrong_authenticator_shows_a_clear_message(tab):
    email = "browser-wrong@example.com"
    built_in = enrolled(tab, email)

    # Registering this device's built-in authenticator a second time.
    tab.button("Built-in authenticator", exact=True).click()
    tab.button("Register built-in authenticator").click()
    assert "already registered" in tab.alert_text()
    tab.log_out()

    # Another browser with only a security key that was never registered: the browser waits
    # for an authenticator that can answer, and the person cancels.
    tab.remove_authenticator(built_in)
    tab.add_authenticator(SECURITY_KEY)
    tab.password_step(email)
    tab.button("Use this device's built-in authenticator").click()
    tab.page.get_by_text("Follow your browser's prompt").wait_for()
    tab.button("Cancel").click()
    assert "cancelled" in tab.alert_text()
    assert tab.heading("Verify it's you").is_visible()


def test_a_command_line_login_is_approved_in_the_browser(tab, origin):
    import requests

    enrolled(tab, "browser-cli@example.com")
    tab.log_out()
    api = origin.replace("localhost", "127.0.0.1")
    started = requests.post(api + "/v1/cli/logins", json={"client_name": "laptop terminal"}, timeout=10).json()
    assert started["verification_uri_complete"].startswith(origin + "/cli-login?user_code=")

    tab.page.goto(started["verification_uri_complete"])
    tab.page.get_by_text("Log in to approve the command-line login").wait_for()
    tab.password_step("browser-cli@example.com")
    tab.button("Use this device's built-in authenticator").click()
    tab.heading("Approve a command-line login").wait_for()
    assert tab.page.get_by_label("The code your terminal shows").input_value() == started["user_code"]
    tab.page.get_by_text('"laptop terminal" asks to log in to your account.').wait_for()
    tab.button("Approve").click()
    tab.page.get_by_text("Approved. You can go back to your terminal.").wait_for()

    token = requests.post(api + "/v1/cli/logins/token", json={"device_code": started["device_code"]}, timeout=10)
    assert token.status_code == 200, token.text
    whoami = requests.get(api + "/v1/account", headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                          timeout=10)
    assert whoami.json()["email"] == "browser-cli@example.com"


@pytest.fixture(scope="module")
def short_step_up_origin():
    """A server whose step-up lasts 4 seconds, so that the step-up dialog appears."""
    with served_on_localhost({"STEP_UP_SECONDS": "4"}) as origin:
        yield origin


def test_sensitive_changes_ask_for_a_fresh_second_factor_in_a_dialog(chromium, short_step_up_origin):
    import time

    tab = Tab(chromium, short_step_up_origin)
    try:
        enrolled(tab, "browser-step-up@example.com")
        # Past the 4 s step-up, counted in whole seconds on the server.
        time.sleep(5.5)
        tab.button("Generate recovery codes").click()
        dialog = tab.page.get_by_role("dialog", name="Confirm it's you")
        dialog.wait_for()
        dialog.get_by_role("button", name="Cancel").click()
        assert "needs you to confirm it's you" in tab.alert_text()

        tab.button("Generate recovery codes").click()
        dialog.get_by_role("button", name="Use this device's built-in authenticator").click()
        tab.page.get_by_role("list", name="Recovery codes").wait_for()
        assert not dialog.is_visible()
    finally:
        tab.close()


def pair_phone_in_the_ui(tab, origin, tmp_path):
    """On the account page: pair the reference authenticator as "My phone" (device "Test phone")."""
    phone = Authenticator(tmp_path / "phone.json")
    tab.button("Mobile app (push)").click()
    tab.button("Show pairing code").click()
    phrase = phone.pair(tab.page.locator("#pairing-code").inner_text(), origin.replace("localhost", "127.0.0.1"),
                        "Test phone")
    tab.page.get_by_label("The three words the app shows").fill(phrase)
    tab.button("Finish pairing").click()
    tab.page.get_by_text("My phone was added.").wait_for()
    return phone


def test_pair_a_phone_and_log_in_by_approving_the_push(tab, origin, tmp_path):
    email = "browser-push@example.com"
    built_in = enrolled(tab, email)
    phone = pair_phone_in_the_ui(tab, origin, tmp_path)
    assert tab.page.locator("tr", has_text="My phone").get_by_text("Test phone").is_visible()

    tab.log_out()
    tab.remove_authenticator(built_in)
    tab.password_step(email)
    tab.button("Approve on your phone: My phone").click()
    number = int(tab.page.locator("#push-number").inner_text())
    assert "type this number in the app" in tab.page.locator("#push-wait").inner_text()
    waiting, = phone.challenges()
    assert "candidates" not in waiting and waiting["context"]["browser"] == "Chrome"
    phone.answer(waiting["challenge_id"], "approve", number)
    tab.account_page_ready()
    assert tab.page.locator("#events td").first.inner_text() == "Login succeeded (Mobile app)"


def waiting_for_a_push(tab, origin, tmp_path, email: str):
    """An account with a paired phone, logged out and back in up to the push's waiting
    screen: the phone."""
    enrolled(tab, email)
    phone = pair_phone_in_the_ui(tab, origin, tmp_path)
    tab.log_out()
    tab.password_step(email)
    tab.button("Approve on your phone: My phone").click()
    tab.page.locator("#push-number").wait_for()
    return phone


def test_a_push_denied_on_the_phone_shows_a_clear_message(tab, origin, tmp_path):
    phone = waiting_for_a_push(tab, origin, tmp_path, "browser-push-deny@example.com")
    phone.answer(phone.challenges()[0]["challenge_id"], "deny")
    assert "denied on your phone" in tab.alert_text()


def test_a_wrong_number_and_a_fraud_report_are_told_plainly(tab, origin, tmp_path):
    phone = waiting_for_a_push(tab, origin, tmp_path, "browser-push-wrong@example.com")
    number = int(tab.page.locator("#push-number").inner_text())
    typed = number % 89 + 10
    assert phone.answer(phone.challenges()[0]["challenge_id"], "approve", typed)["reason"] == "wrong_number"
    tab.page.locator("main [role=alert]", has_text="was not the one shown here").wait_for()

    tab.button("Approve on your phone: My phone").click()
    tab.page.locator("#push-number").wait_for()
    phone.answer(phone.challenges()[0]["challenge_id"], "fraud")
    tab.page.locator("main [role=alert]", has_text="this login has ended").wait_for()


def mailed_code(tab, email: str) -> str:
    """The newest emailed code, read from the dev mailbox's JSON."""
    messages = tab.context.request.get(tab.origin + "/_dev/mailbox").json()["messages"]
    mailed = next(m for m in messages if email in m["to"] and m["subject"] == "Your verification code")
    return re.search(r"\b(\d{6})\b", mailed["text"]).group(1)


def test_add_an_email_code_backup_and_log_in_with_a_mailed_code(tab):
    email = "browser-email-code@example.com"
    enrolled(tab, email)
    tab.button("Email code (backup)").click()
    tab.button("Email me a code").click()
    code_input = tab.page.get_by_label(re.compile("The 6-digit code sent to b•••@example.com"))
    code_input.wait_for()   # the code is mailed by then
    code_input.fill(mailed_code(tab, email))
    tab.button("Confirm").click()
    tab.page.locator("main tr[data-method-id]").get_by_text("Email code").wait_for()
    tab.log_out()

    tab.password_step(email)
    tab.button("Email a code: Email").click()
    code_input = tab.page.get_by_label(re.compile("6-digit code emailed to b•••@example.com"))
    code_input.wait_for()
    code_input.fill(mailed_code(tab, email))
    tab.button("Verify").click()
    tab.account_page_ready()
