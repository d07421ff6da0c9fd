"""Single sign-on in a real browser: Chromium (Playwright) on the reference frontend served by
`make run`'s program, through a real identity provider and back — oidc-provider over OpenID
Connect, pysaml2's IdP over SAML 2.0 (its answer POSTed from the IdP's site to our ACS) — to
the account page; a login without MFA at the IdP ends on the refusal page; a CLI login is
approved by an SSO user. The served API's local AWS runs on a port the test chose, so the
test adds the connections there as an operator would."""
import pytest
import requests

from localdev.embedded_aws import free_port
from tests.support.oidc_idp import Client, oidc_provider
from tests.support.saml_idp import saml_idp
from tests.support.servers import served_on_localhost
from tests.test_browser import Tab, chromium  # noqa: F401 (the browser fixture)

OIDC_CONNECTION = "6" * 32
SAML_CONNECTION = "7" * 32


@pytest.fixture(scope="module")
def served():
    """(frontend origin, its local AWS endpoint)."""
    aws_port = free_port()
    with served_on_localhost({"LOCAL_AWS_PORT": str(aws_port)}) as origin:
        yield origin, f"http://127.0.0.1:{aws_port}"


@pytest.fixture
def operator(served, monkeypatch):
    """The connections service, pointed at the served API's local AWS."""
    from chalicelib import aws
    from chalicelib.config import get_settings
    from chalicelib.services.sso import connections

    monkeypatch.setenv("AWS_ENDPOINT_URL", served[1])
    monkeypatch.setenv("PUBLIC_BASE_URL", served[0])
    get_settings.cache_clear()
    aws.reset()
    return connections


@pytest.fixture(scope="module")
def oidc_idp(served):
    rp = Client("mfa-browser", "browser-secret-0123456789abcdef",
                f"{served[0]}/v1/sso/{OIDC_CONNECTION}/oidc/callback")
    with oidc_provider([rp]) as provider:
        yield provider, rp


@pytest.fixture
def tab(chromium, served):
    opened = Tab(chromium, served[0])
    yield opened
    assert opened.errors == []
    opened.context.close()


def add_oidc(operator, monkeypatch, oidc_idp, domain: str) -> None:
    provider, rp = oidc_idp
    monkeypatch.setattr(operator, "random_id", lambda: OIDC_CONNECTION)
    from chalicelib import store

    if store.get_connection(OIDC_CONNECTION) is None:
        operator.add_oidc(name="Acme", domains=[domain], issuer=provider.issuer, client_id=rp.client_id,
                          client_secret=rp.client_secret, operator_arn="arn:test:browser")


def sso_from_login_page(tab, email: str) -> None:
    tab.go("/login")
    tab.page.get_by_label("Email address").fill(email)
    tab.button("Log in with single sign-on").click()


def test_oidc_round_trip_lands_on_the_account_page(tab, operator, monkeypatch, oidc_idp):
    add_oidc(operator, monkeypatch, oidc_idp, "acme.example.com")
    sso_from_login_page(tab, "ada@acme.example.com")
    tab.page.get_by_role("button", name="Sign in").wait_for()        # the provider's own page
    tab.page.get_by_label("Email", exact=True).fill("ada@acme.example.com")
    tab.page.locator("input[name=amr][value=pwd]").check()
    tab.page.locator("input[name=amr][value=mfa]").check()
    tab.button("Sign in").click()
    tab.page.wait_for_url(f"{tab.origin}/account")
    tab.page.get_by_text("ada@acme.example.com").first.wait_for()
    tab.page.get_by_text("Browser (single sign-on)").wait_for()
    tab.screenshot("sso-oidc-account")


def test_without_mfa_at_the_provider_the_browser_sees_why(tab, operator, monkeypatch, oidc_idp):
    add_oidc(operator, monkeypatch, oidc_idp, "acme.example.com")
    sso_from_login_page(tab, "bob@acme.example.com")
    tab.page.get_by_role("button", name="Sign in").wait_for()
    tab.page.get_by_label("Email", exact=True).fill("bob@acme.example.com")
    tab.page.locator("input[name=amr][value=pwd]").check()
    tab.button("Sign in").click()
    tab.page.get_by_text("did not verify a second factor").wait_for()
    assert "require MFA for this application" in tab.page.content()
    tab.screenshot("sso-idp-mfa-required")


def test_saml_round_trip_and_a_cli_login_approved_by_the_sso_user(tab, operator, monkeypatch, served):
    origin, _ = served
    monkeypatch.setattr(operator, "random_id", lambda: SAML_CONNECTION)
    with saml_idp(f"{origin}/v1/sso/{SAML_CONNECTION}/saml/metadata",
                  f"{origin}/v1/sso/{SAML_CONNECTION}/saml/acs") as idp:
        operator.add_saml(name="Initech", domains=["initech.example.com"], metadata_xml=idp.metadata_xml,
                          operator_arn="arn:test:browser")
        api = origin.replace("localhost", "127.0.0.1")
        started = requests.post(api + "/v1/cli/logins", json={"client_name": "laptop terminal"}, timeout=10).json()
        # The approval page sends a logged-out person to log in, and back.
        tab.page.goto(started["verification_uri_complete"])
        tab.page.get_by_text("Log in to approve the command-line login").wait_for()
        tab.page.get_by_label("Email address").fill("peter@initech.example.com")
        tab.button("Log in with single sign-on").click()
        tab.page.get_by_role("button", name="Log in", exact=True).wait_for()      # the IdP's page
        tab.page.get_by_label("Email", exact=True).fill("peter@initech.example.com")
        tab.page.get_by_label("Second factor used (MFA)").check()
        tab.button("Log in", exact=True).click()                      # its form POSTs to our ACS
        tab.heading("Approve a command-line login").wait_for()
        assert tab.page.url.startswith(f"{origin}/cli-login?user_code=")
        tab.button("Continue").click()
        tab.page.get_by_text('"laptop terminal" asks to log in to your account.').wait_for()
        tab.button("Approve").click()
        tab.page.get_by_text("Approved. You can go back to your terminal.").wait_for()
        tab.screenshot("sso-saml-cli-approved")

    token = requests.post(api + "/v1/cli/logins/token", json={"device_code": started["device_code"]}, timeout=10)
    assert token.status_code == 200, token.text
    whoami = requests.get(api + "/v1/account", headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                          timeout=10)
    assert whoami.json()["email"] == "peter@initech.example.com"
    tab.go("/account")
    tab.page.get_by_text("Browser (single sign-on)").wait_for()


def test_an_enforced_domain_is_sent_to_its_provider_from_the_password_form(tab, operator, monkeypatch, oidc_idp):
    add_oidc(operator, monkeypatch, oidc_idp, "acme.example.com")
    operator.set_enforced(OIDC_CONNECTION, True, "arn:test:browser")
    try:
        tab.go("/login")
        tab.page.get_by_label("Email address").fill("carol@acme.example.com")
        tab.page.get_by_label("Password").fill("a password that is long enough 1")
        tab.button("Continue").click()
        tab.page.get_by_role("button", name="Sign in").wait_for()    # at the provider, not refused
        assert tab.page.url.startswith(oidc_idp[0].issuer)
    finally:
        operator.set_enforced(OIDC_CONNECTION, False, "arn:test:browser")
