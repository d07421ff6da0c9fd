"""The account page, the CLI approval page, the verification link and the pairing phrase as a
person finds them, in chromium (as tests/test_browser.py): the page follows every change,
names sessions and events in words, and says plainly what happened."""
import pyotp
import requests

from tests.support.journeys import PASSWORD
from tests.support.phone import Authenticator
from tests.test_browser import BUILT_IN, Tab, chromium, enrolled, origin, tab  # noqa: F401 - fixtures and flows


def wait_for_log(tab, sentence: str) -> None:  # noqa: F811
    tab.page.locator("#events tbody td", has_text=sentence).first.wait_for()


def add_totp(tab, label: str) -> None:  # noqa: F811
    tab.button("Authenticator app", exact=True).click()
    tab.page.get_by_label("Name", exact=True).fill(label)
    tab.button("Show QR code").click()
    tab.page.locator(".qr svg").wait_for()
    secret = tab.page.locator(".secret").inner_text()
    tab.page.get_by_label("The 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    tab.button("Confirm").click()
    tab.page.get_by_text(f"{label} was added.").wait_for()


def test_the_account_page_follows_every_change_in_words(tab):  # noqa: F811
    enrolled(tab, "browser-live@example.com")
    methods = tab.page.locator("section[aria-labelledby=methods-title]")
    # The security log is a table of sentences, not a numbered list of event kinds.
    assert tab.page.locator("#events").evaluate("e => e.tagName") == "TABLE"
    assert tab.page.locator("section[aria-labelledby=events-title] ol").count() == 0
    wait_for_log(tab, "Verification method added (Built-in authenticator)")
    # Sessions by browser and system, the raw user agent only as the cell's title.
    device = tab.page.locator("section[aria-labelledby=sessions-title] tbody td").nth(1)
    assert device.inner_text() == "Chrome on Linux"
    assert "Mozilla/5.0" in device.get_attribute("title")

    # New recovery codes: the count, the methods list and the log follow while the codes show.
    assert tab.page.locator("#backup-nudge").is_visible()
    tab.button("Generate recovery codes").click()
    tab.page.get_by_role("list", name="Recovery codes").wait_for()
    tab.page.get_by_text("10 of 10 codes left.").wait_for()
    wait_for_log(tab, "New recovery codes made")
    assert tab.button("Generate new recovery codes").is_visible()
    assert tab.page.locator("#new-codes").is_visible()

    # An added method and a rename show at once, in the list and in the log.
    add_totp(tab, "Phone")
    wait_for_log(tab, "Verification method added (Authenticator app)")
    tab.page.locator("#backup-nudge").wait_for(state="detached")   # a backup now: the nudge goes
    assert "null" not in methods.inner_text()   # and leaves nothing in its place
    tab.button("Rename Phone").click()
    tab.page.get_by_label("New name").fill("Work phone")
    tab.button("Save").click()
    tab.page.get_by_text("Phone is now called Work phone.").wait_for()
    wait_for_log(tab, 'Verification method renamed (Authenticator app "Work phone")')

    # A removal is confirmed in words, and logged.
    tab.button("Remove Work phone").click()
    tab.button("Yes, remove Work phone").click()
    tab.page.get_by_text("Work phone was removed.").wait_for()
    assert tab.page.evaluate("document.activeElement.id") == "methods-status"
    assert methods.locator("tr", has_text="Work phone").count() == 0
    wait_for_log(tab, 'Verification method removed (Authenticator app "Work phone")')

    # A refused removal (the last method that logs in) says why and closes the question.
    tab.button("Remove This device").click()
    tab.button("Yes, remove This device").click()
    methods.locator("p.error[role=alert]", has_text="This is your last verification method").wait_for()
    tab.button("Yes, remove This device").wait_for(state="detached")
    assert tab.button("Remove This device").is_visible()
    assert "null" not in methods.inner_text()

    # A requested change of address is logged at once too.
    tab.button("Change email").click()
    tab.page.get_by_label("New email address").fill("browser-live-moved@example.com")
    tab.button("Send the confirmation link").click()
    wait_for_log(tab, "Email address change requested")
    tab.screenshot("account-live")


def test_a_factor_change_offers_to_end_the_other_sessions_there(tab, chromium, origin):  # noqa: F811
    email = "browser-offer@example.com"
    enrolled(tab, email)
    other = Tab(chromium, origin)
    try:
        other.add_authenticator(BUILT_IN)
        tab.button("Generate recovery codes").click()
        code = tab.page.get_by_role("list", name="Recovery codes").locator("li").first.inner_text()
        tab.button("I have saved them").click()
        other.password_step(email)
        other.page.get_by_role("button", name="Use a recovery code").click()
        other.page.get_by_label("One of your recovery codes").fill("aaaa-bbbb-cccc-dddd")
        other.button("Verify").click()
        other.alert_text()
        other.page.get_by_label("One of your recovery codes").fill(code)
        other.button("Verify").click()
        other.account_page_ready()

        # The other login shows in the log; a method added here offers to end it, right there.
        tab.go("/account")
        tab.account_page_ready()
        wait_for_log(tab, "Login succeeded (Recovery codes)")
        wait_for_log(tab, "Login failed: wrong code")
        assert tab.page.locator("section[aria-labelledby=sessions-title] tbody tr").count() == 2
        add_totp(tab, "Phone")
        offer = tab.page.locator("section[aria-labelledby=methods-title] #other-sessions-offer")
        offer.get_by_role("button", name="End 1 other session").click()
        tab.page.get_by_text("1 other session ended.").wait_for()
        # The sessions list and the log follow.
        tab.page.locator("section[aria-labelledby=sessions-title] tbody tr").nth(1).wait_for(state="detached")
        wait_for_log(tab, "Other sessions ended")
        other.go("/account")
        other.heading("Log in").wait_for()
    finally:
        other.close()


def start_cli_login(origin: str, name: str) -> dict:  # noqa: F811
    api = origin.replace("localhost", "127.0.0.1")
    return requests.post(api + "/v1/cli/logins", json={"client_name": name}, timeout=10).json()


def test_the_cli_page_shows_the_request_at_once_and_takes_the_code_as_typed(tab, origin):  # noqa: F811
    enrolled(tab, "browser-cli-typed@example.com")

    # Opened from the terminal's link: the request shows without a click; the decision replaces the form.
    linked = start_cli_login(origin, "laptop terminal")
    tab.page.goto(linked["verification_uri_complete"])
    tab.page.get_by_text('"laptop terminal" asks to log in to your account').wait_for()
    tab.button("Deny").click()
    tab.page.get_by_text('Denied. "laptop terminal" will not be logged in.').wait_for()
    assert tab.page.get_by_label("The code your terminal shows").count() == 0
    assert tab.button("Approve").count() == 0

    # Typed in lower case with a space, or without the dash.
    for typed in (lambda c: c[:4].lower() + " " + c[5:].lower(), lambda c: c.replace("-", "")):
        started = start_cli_login(origin, "build server")
        tab.go("/cli-login")
        tab.page.get_by_label("The code your terminal shows").fill(typed(started["user_code"]))
        tab.button("Continue").click()
        tab.page.get_by_text('"build server" asks to log in to your account.').wait_for()
        tab.page.get_by_text(f'The code: {started["user_code"]}.').wait_for()
    tab.button("Approve").click()
    tab.page.get_by_text('Approved. You can go back to your terminal. "build server" is now logged in.').wait_for()
    assert tab.page.locator("form").count() == 0
    tab.screenshot("cli-login-approved")

    # The security log in sentences.
    tab.go("/account")
    wait_for_log(tab, 'CLI login approved: "build server"')
    wait_for_log(tab, 'CLI login denied: "laptop terminal"')


def verification_links(tab, email: str):  # noqa: F811
    tab.go("/dev/mailbox")
    return tab.page.locator("article", has_text=email).locator("a[href*='/verify-email#token=']")


def test_a_used_verification_link_says_the_address_is_verified(tab):  # noqa: F811
    email = "browser-twice@example.com"
    for _ in range(2):   # two sign-ups of one address, each with its own link
        tab.go("/signup")
        tab.page.get_by_label("Email address").fill(email)
        tab.page.get_by_label("Password").fill(PASSWORD)
        tab.button("Create account").click()
        tab.heading("Check your email").wait_for()
    links = verification_links(tab, email)
    links.nth(1).wait_for()
    newest, older = links.nth(0).get_attribute("href"), links.nth(1).get_attribute("href")

    tab.page.goto(newest)
    tab.page.get_by_text("Your email address is verified. You can log in now.").wait_for()
    tab.page.goto(newest)   # the same link again
    tab.page.get_by_text("This link was already used: your email address is verified.").wait_for()
    tab.page.goto(older)    # the other sign-up's link
    tab.page.get_by_text("This email address is already verified, through the link of another sign-up.").wait_for()
    assert tab.page.locator("main").get_by_role("link", name="reset your password").is_visible()
    assert tab.page.locator("main").get_by_text("Sign up again").count() == 0
    tab.screenshot("verify-email-already-verified")


def test_a_wrong_pairing_phrase_says_how_many_tries_are_left(tab, origin, tmp_path):  # noqa: F811
    enrolled(tab, "browser-phrase@example.com")
    phone = Authenticator(tmp_path / "phone.json")
    tab.button("Mobile app (push)").click()
    tab.button("Show pairing code").click()
    phrase = phone.pair(tab.page.locator("#pairing-code").inner_text(), origin.replace("localhost", "127.0.0.1"),
                        "Test phone")
    wrong = "acid acorn acre" if phrase != "acid acorn acre" else "acid acorn aft"
    tab.page.get_by_label("The three words the app shows").fill(wrong)
    tab.button("Finish pairing").click()
    assert tab.alert_text() == "That is not the phrase the app shows. Check it and type it again. 4 tries left."
    tab.page.get_by_label("The three words the app shows").fill(phrase)
    tab.button("Finish pairing").click()
    tab.page.get_by_text("My phone was added.").wait_for()
