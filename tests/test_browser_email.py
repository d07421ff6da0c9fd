"""The email address in the reference web frontend (chromium, as tests/test_browser.py):
resend the verification link from the login page, change the address from the account page
and confirm it from the emailed link."""
from tests.test_browser import chromium, enrolled, origin, tab  # noqa: F401 - fixtures and the enrolment flow

NEW = "browser-moved@example.com"


def test_resend_the_verification_email_from_the_login_page(tab):
    email = "browser-resend@example.com"
    tab.go("/signup")
    tab.page.get_by_label("Email address").fill(email)
    tab.page.get_by_label("Password").fill("correct horse battery staple")
    tab.button("Create account").click()
    tab.heading("Check your email").wait_for()
    tab.password_step(email)
    assert "Verify your email address first" in tab.alert_text()
    tab.button("Resend the verification email").click()
    tab.page.get_by_text("Use the link whose sign-up you made").wait_for()
    tab.go("/dev/mailbox")
    links = tab.page.locator("article", has_text=email).locator("a[href*='/verify-email#token=']")
    links.nth(1).wait_for()
    links.first.click()   # the newest message comes first
    tab.page.get_by_text("Your email address is verified").wait_for()


def test_change_the_email_address_and_log_in_with_the_new_one(tab):
    enrolled(tab, "browser-before@example.com")
    tab.button("Change email").click()
    tab.page.get_by_label("New email address").fill(NEW)
    tab.button("Send the confirmation link").click()
    tab.page.get_by_text("Check the new address's inbox").wait_for()
    tab.screenshot("email-change-asked")
    tab.go("/dev/mailbox")
    tab.page.locator("article", has_text=NEW).locator("a[href*='/confirm-email#token=']").first.click()
    tab.page.get_by_text(f"Your email address is now {NEW}").wait_for()
    tab.password_step(NEW)
    tab.heading("Verify it's you").wait_for()
    tab.button("Use this device's built-in authenticator").click()
    tab.account_page_ready()
    assert tab.page.get_by_text(f"Logged in as {NEW}.").is_visible()
