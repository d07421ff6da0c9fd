"""The reference web frontend on phones and for keyboard and screen-reader users (chromium, as
tests/test_browser.py): no page scrolls sideways at 320, 390 or 1280 px (screenshots of each in
build/screenshots/), buttons and links are 44×44 CSS px targets, the focus ring stands out
against white, and focus never falls to <body>: it stays on the button while a request runs,
moves to the failing field or the error after a failure, to the new heading after a step, and
back to the control that opened the step-up dialog."""
import os
import re
import time

import pyotp
import pytest
import requests

from tests import test_browser
from tests.test_browser import BUILT_IN, Tab, enrolled

# test_browser's fixtures, bound here so that pytest finds them for this file's tests.
chromium, origin, short_step_up_origin, tab = (test_browser.chromium, test_browser.origin,
                                               test_browser.short_step_up_origin, test_browser.tab)

WIDTHS = (320, 390, 1280)

# What the focused element is, in a form a failing assertion shows plainly.
FOCUSED = """() => { const el = document.activeElement;
  return {tag: el.tagName.toLowerCase(), id: el.id, text: el.textContent.trim().slice(0, 80),
          invalid: el.getAttribute("aria-invalid"), describedby: el.getAttribute("aria-describedby") || ""}; }"""

# Every visible button and link whose box is smaller than 44×44 CSS px.
SMALL_TARGETS = """() => [...document.querySelectorAll("button, a[href]")]
  .filter((el) => el.offsetParent !== null || el.getClientRects().length)
  .map((el) => ({text: el.textContent.trim().slice(0, 40), rect: el.getBoundingClientRect()}))
  .filter(({rect}) => rect.width > 0 && (rect.width < 43.5 || rect.height < 43.5))
  .map(({text, rect}) => `${text}: ${Math.round(rect.width)}×${Math.round(rect.height)}`)"""


def focused(tab) -> dict:
    return tab.page.evaluate(FOCUSED)


def wait_for_focus(tab, predicate, what: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        now = focused(tab)
        if predicate(now):
            return now
        assert time.monotonic() < deadline, f"focus is on {now}, not on {what}"
        time.sleep(0.05)


# axe-core's serious and critical findings on the page as it stands.
SERIOUS_VIOLATIONS = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter((v) => v.impact === "serious" || v.impact === "critical")
  .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3)}`)"""


def accessibility_violations(tab) -> list[str]:
    """axe-core run in the page: evaluated through the DevTools protocol, which the page's
    Content-Security-Policy (script-src 'self') does not apply to, unlike a script tag."""
    from localdev import servers as local_servers

    try:
        script = local_servers.axe_core_script()
    except local_servers.NotInstalled as missing:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"NOT CHECKED WITH AXE-CORE: {missing}")
    if not tab.page.evaluate("() => typeof window.axe === 'object'"):
        tab.page.evaluate(script.read_text())
    return tab.page.evaluate(SERIOUS_VIOLATIONS)


def fits_every_width(tab, name: str, ready) -> None:
    """At each width the page has no horizontal overflow (a screenshot of each is kept), and
    axe-core finds nothing serious or critical in it."""
    for width in WIDTHS:
        tab.page.set_viewport_size({"width": width, "height": 800})
        ready()
        overflow = tab.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        tab.screenshot(f"layout-{name}-{width}")
        assert overflow[0] <= overflow[1], f"{name} at {width} px is {overflow[0]} px wide"
    tab.page.set_viewport_size({"width": 1280, "height": 800})
    ready()
    assert accessibility_violations(tab) == [], name


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_page_fits_320_390_and_1280_px(tab, origin):
    heading = lambda name: lambda: tab.heading(name).wait_for()   # noqa: E731
    for path, name, title in [("/login", "login", "Log in"), ("/signup", "signup", "Create your account"),
                              ("/forgot-password", "forgot-password", "Reset your password"),
                              ("/reset-password#token=nothing", "reset-password", "Choose a new password"),
                              ("/verify-email#token=nothing", "verify-email-failed", "Verify your email"),
                              ("/nowhere", "not-found", "Page not found")]:
        tab.go(path)
        fits_every_width(tab, name, heading(title))

    email = "layout@example.com"
    tab.add_authenticator(BUILT_IN)
    tab.sign_up_and_verify(email)
    tab.password_step(email)
    fits_every_width(tab, "setup", lambda: tab.heading("Set up two-factor verification").wait_for())
    tab.button("Built-in authenticator").click()
    tab.button("Register built-in authenticator").click()
    tab.account_page_ready()
    # An authenticator app too, so that the methods table has several rows.
    tab.button("Authenticator app", exact=True).click()
    tab.button("Show QR code").click()
    secret = tab.page.locator(".secret").inner_text()
    fits_every_width(tab, "account-adding-totp", lambda: tab.page.locator(".qr svg").wait_for())
    tab.page.get_by_label("The 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    tab.button("Confirm").click()
    tab.page.get_by_text("Authenticator app was added.").wait_for()

    # A command-line session beside this browser's, approved from the CLI approval page.
    api = origin.replace("localhost", "127.0.0.1")
    started = requests.post(api + "/v1/cli/logins", json={"client_name": "a terminal with a rather long name"},
                            timeout=10).json()
    tab.page.goto(started["verification_uri_complete"])
    tab.heading("Approve a command-line login").wait_for()
    tab.button("Continue").click()
    fits_every_width(tab, "cli-approval", lambda: tab.button("Approve").wait_for())
    tab.button("Approve").click()
    tab.page.get_by_text("Approved. You can go back to your terminal.").wait_for()
    assert requests.post(api + "/v1/cli/logins/token", json={"device_code": started["device_code"]},
                         timeout=10).status_code == 200

    tab.go("/account")
    tab.account_page_ready()
    tab.page.locator("#sessions-title ~ table tbody tr").nth(1).wait_for()
    tab.button("Generate recovery codes").click()
    codes = tab.page.get_by_role("list", name="Recovery codes").locator("li")
    codes.first.wait_for()
    fits_every_width(tab, "account", tab.account_page_ready)
    # At 320 px each code stays on one line, and each row of a table is a block labelled by column.
    tab.page.set_viewport_size({"width": 320, "height": 800})
    heights = {round(box["height"]) for box in (codes.nth(i).bounding_box() for i in range(codes.count()))}
    assert len(heights) == 1, heights
    device = tab.page.locator("#sessions-title ~ table tbody tr").first.locator("td").nth(1)
    assert device.evaluate("(td) => getComputedStyle(td, '::before').content") == '"Device: "'
    tab.page.set_viewport_size({"width": 1280, "height": 800})

    tab.go("/dev/mailbox")
    fits_every_width(tab, "dev-mailbox", lambda: tab.heading("Dev mailbox").wait_for())
    tab.log_out()
    tab.password_step(email)
    fits_every_width(tab, "second-factor", lambda: tab.heading("Verify it's you").wait_for())


def test_targets_are_44_px_and_the_focus_ring_stands_out_against_white(tab):
    for path, title in [("/login", "Log in"), ("/signup", "Create your account"),
                        ("/forgot-password", "Reset your password")]:
        tab.go(path)
        tab.heading(title).wait_for()
        for width in (390, 1280):
            tab.page.set_viewport_size({"width": width, "height": 800})
            assert tab.page.evaluate(SMALL_TARGETS) == [], (path, width)

    enrolled(tab, "layout-targets@example.com")
    tab.button("Generate recovery codes").click()
    tab.page.get_by_role("list", name="Recovery codes").wait_for()
    for width in (390, 1280):
        tab.page.set_viewport_size({"width": width, "height": 800})
        assert tab.page.evaluate(SMALL_TARGETS) == [], ("/account", width)

    # The ring a keyboard user sees on a button.
    tab.go("/login")
    tab.heading("Log in").wait_for()
    tab.page.get_by_label("Password").focus()
    tab.page.keyboard.press("Tab")
    assert focused(tab)["text"] == "Continue"
    ring = tab.page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }""")
    assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 2
    rgb = tuple(int(c) for c in re.findall(r"\d+", ring[2])[:3])
    assert contrast(rgb, (255, 255, 255)) >= 3, ring


def test_focus_after_each_step_of_a_login(tab):
    email = "layout-focus@example.com"
    enrolled(tab, email)
    tab.button("Generate recovery codes").click()
    first_code = tab.page.get_by_role("list", name="Recovery codes").locator("li").first
    code = first_code.inner_text()
    # The button that was used keeps focus while the request runs and after.
    assert focused(tab)["text"] in ("Generate recovery codes", "Generate new recovery codes")
    # The section is redrawn under the focused "I have saved them": focus goes to its heading.
    tab.button("I have saved them").focus()
    tab.page.keyboard.press("Enter")
    tab.page.get_by_text("10 of 10 codes left.").wait_for()
    wait_for_focus(tab, lambda f: f["text"] == "Recovery codes" and f["tag"] == "h2", "the section's heading")
    tab.log_out()

    # The password step done: focus on the new page's heading.
    tab.password_step(email)
    tab.heading("Verify it's you").wait_for()
    wait_for_focus(tab, lambda f: f["tag"] == "h1" and f["text"] == "Verify it's you", "the heading")
    tab.button("Use a recovery code").click()
    field = tab.page.get_by_label("One of your recovery codes")
    field.fill("aaaa-bbbb-cccc-dddd")
    field.press("Enter")
    tab.alert_text()
    # A wrong code: focus on the field, marked invalid and described by the error.
    now = wait_for_focus(tab, lambda f: f["id"] == "code" and f["invalid"] == "true", "the invalid field")
    error_id = tab.page.locator("main [role=alert]:not(:empty)").first.get_attribute("id")
    assert error_id in now["describedby"].split()
    field.fill(code)
    field.press("Enter")
    tab.account_page_ready()
    wait_for_focus(tab, lambda f: f["tag"] == "h1" and f["text"] == "Your account", "the account page's heading")


def test_a_refused_request_without_a_field_focuses_its_error(tab):
    tab.go("/login")
    tab.page.get_by_label("Email address").fill("nobody-here@example.com")
    tab.page.get_by_label("Password").fill("not the password at all")
    tab.page.get_by_label("Password").press("Enter")
    tab.alert_text()
    now = wait_for_focus(tab, lambda f: f["tag"] == "p", "the error")
    assert tab.page.locator("main [role=alert]:not(:empty)").first.get_attribute("id") == now["id"]


def test_status_messages_change_live_regions_already_in_the_page(tab):
    """A status shown with a page or a result is put into its region after the region is there."""
    tab.go("/signup")
    tab.heading("Create your account").wait_for()
    tab.page.evaluate("""() => {
        window.statusesAsAdded = [];
        new MutationObserver((records) => {
          for (const r of records) for (const n of r.addedNodes) {
            if (n.nodeType === 1 && n.matches("[role=status]")) window.statusesAsAdded.push(n.textContent);
          }
        }).observe(document.body, {childList: true, subtree: true});
      }""")
    tab.page.get_by_label("Email address").fill("layout-live@example.com")
    tab.page.get_by_label("Password").fill("correct horse battery staple")
    tab.button("Create account").click()
    tab.page.get_by_role("status").get_by_text("We sent a link to layout-live@example.com").wait_for()
    assert tab.page.evaluate("() => window.statusesAsAdded") == [""]


def test_focus_returns_to_the_control_that_opened_the_step_up_dialog(chromium, short_step_up_origin):
    tab = Tab(chromium, short_step_up_origin)
    try:
        enrolled(tab, "layout-step-up@example.com")
        time.sleep(5.5)   # past the 4 s step-up
        generate = tab.button("Generate recovery codes")
        generate.focus()
        tab.page.keyboard.press("Enter")
        dialog = tab.page.get_by_role("dialog", name="Confirm it's you")
        dialog.wait_for()
        dialog.get_by_role("button", name="Cancel").click()
        assert "needs you to confirm it's you" in tab.alert_text()
        wait_for_focus(tab, lambda f: f["text"] == "Generate recovery codes", "the button that opened the dialog")

        tab.page.keyboard.press("Enter")
        dialog.get_by_role("button", name="Use this device's built-in authenticator").click()
        tab.page.get_by_role("list", name="Recovery codes").wait_for()
        # The same button, renamed while the new codes are on screen.
        wait_for_focus(tab, lambda f: f["text"] == "Generate new recovery codes", "the button that opened the dialog")
    finally:
        tab.close()
