"""A CLI session cannot take control of the account: step-up, method management, recovery
codes, ending sessions, password and email changes, account deletion and CLI approval need a
browser's web session; a CLI bearer token gets 403 browser_session_required on every such
route (read from the route table, so a new route is covered as soon as it is declared). What a
CLI does need (who am I, its sessions, logging out) still works."""
import re

import pytest

import app  # noqa: F401  (importing the app declares its routes)
from chalicelib.api.http import BROWSER, BROWSER_ENROLLMENT, ROUTES
from tests.support.journeys import totp_code

BROWSER_ONLY = sorted({(r.method, r.path) for r in ROUTES if r.auth in (BROWSER, BROWSER_ENROLLMENT)})
ID = "0" * 32


@pytest.fixture
def cli_bearer(alice, api, make_client) -> dict:
    cli = make_client(origin=None)
    started = cli.post("/v1/cli/logins", {"client_name": "mfa-cli"}, browser=False).json
    assert api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"}).status_code == 200
    token = cli.post("/v1/cli/logins/token", {"device_code": started["device_code"]}, browser=False).json
    return {"authorization": f"Bearer {token['access_token']}"}


def test_the_rule_covers_what_controls_the_account():
    expected = {("POST", "/v1/account/step-up"), ("POST", "/v1/account/recovery-codes"),
                ("POST", "/v1/account/methods/totp"), ("POST", "/v1/account/methods/push/pairings"),
                ("DELETE", "/v1/account/methods/{method_id}"), ("DELETE", "/v1/account/sessions"),
                ("POST", "/v1/account/password"), ("POST", "/v1/account/email"), ("DELETE", "/v1/account"),
                ("POST", "/v1/cli/logins/approve"), ("POST", "/v1/account/step-up/sso")}
    assert expected <= set(BROWSER_ONLY)


@pytest.mark.parametrize(("method", "path"), BROWSER_ONLY)
def test_a_cli_token_is_refused(cli_bearer, make_client, method, path):
    cli = make_client(origin=None)
    concrete = re.sub(r"{(\w+)}", lambda m: "BCDF-GHJK" if m.group(1) == "user_code" else ID, path)
    refused = cli.request(method, concrete, {}, headers=cli_bearer, browser=False)
    assert (refused.status_code, refused.json["error"]) == (403, "browser_session_required")


def test_a_stolen_cli_token_and_a_phished_code_do_not_become_control(alice, cli_bearer, make_client, clock):
    """The issue's attack: step up with the CLI token and a code, then manage MFA."""
    cli = make_client(origin=None)
    code = totp_code(alice.secret, clock.now())
    step_up = cli.post("/v1/account/step-up", {"method_id": alice.method_id, "code": code},
                       headers=cli_bearer, browser=False)
    assert (step_up.status_code, step_up.json["error"]) == (403, "browser_session_required")
    for method, path in [("POST", "/v1/account/recovery-codes"), ("POST", "/v1/account/methods/totp"),
                         ("DELETE", f"/v1/account/methods/{alice.method_id}"),
                         ("DELETE", "/v1/account/sessions?scope=others")]:
        assert cli.request(method, path, {}, headers=cli_bearer, browser=False).status_code == 403
    # The person's own browser still does all of it.
    assert alice.api.post("/v1/account/step-up", {"method_id": alice.method_id,
                                                  "code": totp_code(alice.secret, clock.now() + 30)}).status_code == 200


def test_what_a_cli_needs_still_works(cli_bearer, make_client):
    cli = make_client(origin=None)
    assert cli.get("/v1/account", headers=cli_bearer, browser=False).status_code == 200
    assert cli.get("/v1/account/sessions", headers=cli_bearer, browser=False).status_code == 200
    assert cli.post("/v1/logout", {}, headers=cli_bearer, browser=False).status_code == 200


def test_the_step_up_service_itself_refuses_a_cli_session(alice, cli_bearer):
    """Beside the routes' auth: a route declared with a weaker level still cannot step up a CLI token."""
    from chalicelib import crypto, store
    from chalicelib.errors import ApiError
    from chalicelib.records import Client
    from chalicelib.services import step_up
    from chalicelib.services.sso import login as sso_login

    session = store.get_session(crypto.hash_token(cli_bearer["authorization"].split()[1]), int(alice.clock.now()))
    for attempt in (lambda: step_up.challenge(session, alice.method_id, Client()),
                    lambda: sso_login.step_up_start(session, Client(), None)):
        with pytest.raises(ApiError) as refused:
            attempt()
        assert refused.value.code == "browser_session_required"
