"""Passwords in the reference web frontend, in chromium (tests/test_browser.py's harness):
forgot password → dev mailbox → new password → second factor → account page; and changing
the password on the account page."""
from tests.support.journeys import PASSWORD
from tests.test_browser import Tab, chromium, enrolled, origin  # noqa: F401 - fixtures

NEW = "a brand new browser passphrase 9"


def log_in(tab: Tab, email: str, password: str) -> None:
    tab.go("/login")
    tab.page.get_by_label("Email address").fill(email)
    tab.page.get_by_label("Password").fill(password)
    tab.button("Continue").click()
    tab.heading("Verify it's you").wait_for()
    tab.button("Use this device's built-in authenticator").click()
    tab.account_page_ready()


def test_forgot_password_then_log_in_with_the_new_one_and_the_second_factor(chromium, origin):  # noqa: F811
    tab = Tab(chromium, origin)
    try:
        email = "browser-reset@example.com"
        enrolled(tab, email)
        tab.log_out()
        tab.go("/login")
        tab.page.get_by_role("link", name="Forgot password?").click()
        tab.heading("Reset your password").wait_for()
        tab.page.get_by_label("Email address").fill(email)
        tab.button("Email me a reset link").click()
        tab.heading("Check your email").wait_for()
        tab.page.locator("main").get_by_role("link", name="dev mailbox").click()
        tab.heading("Dev mailbox").wait_for()
        tab.page.locator("article", has_text=email).locator("a[href*='/reset-password#token=']").first.click()
        tab.heading("Choose a new password").wait_for()
        assert "token" not in tab.page.url
        tab.page.get_by_label("New password").fill("password1234")
        tab.button("Set new password").click()
        assert "common" in tab.alert_text()
        tab.page.get_by_label("New password").fill(NEW)
        tab.button("Set new password").click()
        tab.page.get_by_text("Your password is changed").wait_for()
        tab.heading("Log in").wait_for()
        tab.screenshot("password-reset-done")
        log_in(tab, email, NEW)
    finally:
        tab.close()


def test_change_the_password_on_the_account_page(chromium, origin):  # noqa: F811
    tab = Tab(chromium, origin)
    try:
        email = "browser-change@example.com"
        enrolled(tab, email)
        tab.page.get_by_label("Current password").fill("not my password at all")
        tab.page.get_by_label("New password").fill(NEW)
        tab.button("Change password", exact=True).click()
        assert "current password is incorrect" in tab.alert_text()
        tab.page.get_by_label("Current password").fill(PASSWORD)
        tab.button("Change password", exact=True).click()
        tab.page.get_by_text("Your password is changed. 0 other sessions ended.").wait_for()
        tab.screenshot("password-changed")
        tab.log_out()
        log_in(tab, email, NEW)
    finally:
        tab.close()
