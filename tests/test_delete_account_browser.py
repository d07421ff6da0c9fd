"""Deleting the account in the reference web frontend, in chromium (tests/test_browser.py's
harness): confirmation, the step-up dialog, then logged out, and the password no longer works."""
import time

from tests.support.journeys import PASSWORD
from tests.test_browser import Tab, chromium, enrolled, short_step_up_origin  # noqa: F401 - fixtures


def test_delete_the_account_from_the_account_page(chromium, short_step_up_origin):  # noqa: F811
    tab = Tab(chromium, short_step_up_origin)
    try:
        email = "browser-delete@example.com"
        enrolled(tab, email)
        time.sleep(5.5)   # past the stage's 4 s step-up
        tab.button("Delete account", exact=True).click()
        tab.button("Keep my account").click()
        tab.button("Delete account", exact=True).click()
        tab.button("Yes, delete my account for good").click()
        dialog = tab.page.get_by_role("dialog", name="Confirm it's you")
        dialog.get_by_role("button", name="Use this device's built-in authenticator").click()
        tab.page.get_by_text("Your account is deleted").wait_for()
        tab.heading("Log in").wait_for()
        tab.screenshot("account-deleted")
        tab.page.get_by_label("Email address").fill(email)
        tab.page.get_by_label("Password").fill(PASSWORD)
        tab.button("Continue").click()
        assert "incorrect" in tab.alert_text().lower()
    finally:
        tab.close()
