"""Single sign-on over OpenID Connect through the API, against a real OpenID Provider (the npm
package oidc-provider, tests/support/oidc_idp.py): POST /v1/sso/start, the provider's login with
the amr/acr the test chooses, the callback; the session it issues, the account made just in
time, and every refusal — MFA missing, reused or foreign state, expired request, wrong nonce,
expired token, a token signed by another key, a JWKS rotation, an email of another domain —
plus step-up at the provider and a CLI login approved by an SSO user.

Real providers stamp real time: the service's clock starts at the current time."""
import time
import urllib.parse

import boto3
import pytest

from chalicelib.idp import oidc
from tests.support import LOCAL_STAGE
from tests.support.oidc_idp import Client, oidc_provider

CONNECTION_ID = "5" * 32
BASE = LOCAL_STAGE["PUBLIC_BASE_URL"]
CALLBACK = f"{BASE}/v1/sso/{CONNECTION_ID}/oidc/callback"
RP = Client("mfa-service", "rp-secret-0123456789abcdef", CALLBACK)
ID_TOKEN_SECONDS = 120
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
NO_MFA = ("pwd",)


@pytest.fixture(scope="module")
def provider():
    with oidc_provider([RP], id_token_ttl=ID_TOKEN_SECONDS) as running:
        yield running


@pytest.fixture
def connection(provider, local_aws, clock, monkeypatch):
    """An OIDC connection for example.org (with the id the provider knows), the clock at now."""
    from chalicelib.services.sso import connections

    clock.t = time.time()
    oidc.forget_cached_keys()
    monkeypatch.setattr(connections, "random_id", lambda: CONNECTION_ID)
    return connections.add_oidc(name="Example", domains=["example.org"], issuer=provider.issuer,
                                client_id=RP.client_id, client_secret=RP.client_secret, operator_arn="arn:test")


def start(api, email="ada@example.org", **extra) -> str:
    response = api.post("/v1/sso/start", {"email": email, **extra})
    assert response.status_code == 200, response.json
    assert "__Host-mfa_sso" in api.cookies
    return response.json["redirect_url"]


def path_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    return parts.path + "?" + parts.query


def callback(api, url: str, headers=HTML):
    return api.get(path_of(url), headers=headers)


def sso_login(api, provider, email="ada@example.org", amr=("pwd", "mfa"), acr=None, headers=HTML):
    return callback(api, provider.log_in(start(api, email), email, amr=amr, acr=acr), headers)


def connection_events(kind: str) -> list[dict]:
    items = boto3.client("dynamodb").query(
        TableName=LOCAL_STAGE["TABLE_NAME"], KeyConditionExpression="PK = :pk AND begins_with(SK, :e)",
        ExpressionAttributeValues={":pk": {"S": f"SSO#{CONNECTION_ID}"}, ":e": {"S": "EVENT#"}})["Items"]
    return [i for i in items if i["kind"]["S"] == kind]


def own_events(api) -> list[str]:
    return [e["kind"] for e in api.get("/v1/account/events?limit=50").json["events"]]


def test_start_asks_the_provider_for_mfa_with_pkce(api, connection, provider):
    url = start(api)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert url.startswith(provider.issuer + "/")
    assert query["client_id"] == [RP.client_id] and query["redirect_uri"] == [CALLBACK]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["acr_values"] == ["https://refeds.org/profile/mfa"]
    assert "prompt" not in query and "max_age" not in query
    by_id = api.post("/v1/sso/start", {"connection_id": CONNECTION_ID})
    assert by_id.status_code == 200 and by_id.json["redirect_url"].startswith(provider.issuer + "/")


def test_a_login_with_mfa_at_the_provider_issues_a_web_session_and_makes_the_account(api, connection, provider, clock):
    landed = sso_login(api, provider)
    assert landed.status_code == 303 and landed.headers["Location"] == f"{BASE}/account"
    assert "__Host-mfa_session" in api.cookies and "__Host-mfa_sso" not in api.cookies
    account = api.get("/v1/account").json
    assert account["email"] == "ada@example.org" and account["verified"] is True
    assert account["enrollment_required"] is False  # MFA is at the provider
    [session] = api.get("/v1/account/sessions").json["sessions"]
    assert session["auth"] == "sso" and session["kind"] == "web"
    assert session["expires_at"] == int(clock.t) + 24 * 3600
    assert {"account_created_by_sso", "sso_login_succeeded"} <= set(own_events(api))
    # No password: the password step refuses whatever is typed.
    assert api.post("/v1/login", {"email": "ada@example.org", "password": "anything at all 123"}).status_code == 401
    # A second login is the same account.
    again = sso_login(api, provider)
    assert again.status_code == 303 and api.get("/v1/account").json["id"] == account["id"]


def test_acr_of_the_refeds_mfa_profile_counts_as_mfa(api, connection, provider):
    assert sso_login(api, provider, amr=NO_MFA, acr="https://refeds.org/profile/mfa").status_code == 303


def test_without_mfa_at_the_provider_the_login_is_refused_and_logged(api, connection, provider):
    page = sso_login(api, provider, amr=NO_MFA)
    assert page.status_code == 403 and "text/html" in page.headers["Content-Type"]
    assert "did not verify a second factor" in page.body.decode()
    assert "require MFA for this application" in page.body.decode()
    assert "__Host-mfa_session" not in api.cookies
    as_json = sso_login(api, provider, amr=NO_MFA, headers=JSON)
    assert as_json.status_code == 403 and as_json.json["error"] == "idp_mfa_required"
    assert len(connection_events("sso_login_refused")) == 2
    assert api.get("/v1/account").status_code == 401


def test_the_state_is_used_once(api, connection, provider):
    returned = provider.log_in(start(api), "ada@example.org")
    assert callback(api, returned).status_code == 303
    again = callback(api, returned, JSON)
    assert again.status_code == 400 and again.json["error"] == "sso_request_invalid"


def test_the_answer_belongs_to_the_browser_that_started(api, make_client, connection, provider):
    returned = provider.log_in(start(api), "ada@example.org")
    stranger = make_client()
    refused = callback(stranger, returned, JSON)
    assert refused.status_code == 400 and refused.json["error"] == "sso_request_invalid"
    assert "__Host-mfa_session" not in stranger.cookies
    # The stranger's try used nothing up: the browser that started still finishes.
    assert callback(api, returned).status_code == 303


def test_the_request_expires_after_ten_minutes(api, connection, provider, clock):
    returned = provider.log_in(start(api), "ada@example.org")
    clock.advance(601)
    assert callback(api, returned, JSON).json["error"] == "sso_request_invalid"


def test_a_wrong_nonce_is_refused(api, connection, provider):
    url = start(api)
    tampered = url.replace("nonce=", "nonce=x", 1)
    refused = callback(api, provider.log_in(tampered, "ada@example.org"), JSON)
    assert (refused.status_code, refused.json["reason"]) == (401, "wrong_nonce")


def test_an_expired_id_token_is_refused(api, connection, provider, clock):
    returned = provider.log_in(start(api), "ada@example.org")
    clock.advance(ID_TOKEN_SECONDS + 120)   # the request (10 min) is still alive; the token is not
    refused = callback(api, returned, JSON)
    assert (refused.status_code, refused.json["reason"]) == (401, "expired")


def test_a_token_signed_by_another_key_is_refused_and_a_rotation_is_followed(api, connection, provider):
    assert sso_login(api, provider).status_code == 303       # the provider's keys are now cached
    with provider.impostor_key():
        refused = sso_login(api, provider, headers=JSON)
    assert (refused.status_code, refused.json["reason"]) == (401, "invalid_token")
    provider.rotate_keys()                                  # a new kid: fetched once, accepted
    assert sso_login(api, provider).status_code == 303


def test_the_provider_speaks_only_for_the_connections_domains(api, connection, provider):
    returned = provider.log_in(start(api), "mallory@elsewhere.test")
    refused = callback(api, returned, JSON)
    assert (refused.status_code, refused.json["error"]) == (403, "sso_email_not_allowed")


def test_an_address_that_is_not_one_is_refused(api, connection, provider):
    returned = provider.log_in(start(api), "x@elsewhere.test@example.org")
    refused = callback(api, returned, JSON)
    assert (refused.status_code, refused.json["error"]) == (403, "sso_email_not_allowed")


def test_an_error_from_the_provider_is_refused(api, connection, provider):
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(start(api)).query)["state"][0]
    refused = api.get(f"/v1/sso/{CONNECTION_ID}/oidc/callback?state={state}&error=access_denied", headers=JSON)
    assert (refused.status_code, refused.json["reason"]) == (401, "access_denied")


def test_step_up_goes_back_to_the_provider_and_a_cli_login_is_approved(api, make_client, connection, provider):
    assert sso_login(api, provider).status_code == 303
    cli = make_client(origin=None)
    started = cli.post("/v1/cli/logins", {"client_name": "mfa-cli on laptop"}, browser=False).json
    # Local methods are not how an SSO session steps up.
    local = api.post("/v1/account/step-up", {"method_id": "0" * 32, "code": "123456"})
    assert (local.status_code, local.json["error"]) == (403, "sso_reauthentication_required")
    make_stale(api)
    approve = {"user_code": started["user_code"], "decision": "approve"}
    assert api.post("/v1/cli/logins/approve", approve).json["error"] == "step_up_required"

    return_to = f"/cli-login?user_code={started['user_code']}"
    url = api.post("/v1/account/step-up/sso", {"return_to": return_to}).json["redirect_url"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    landed = callback(api, provider.log_in(url, "ada@example.org"))
    assert landed.status_code == 303 and landed.headers["Location"] == BASE + return_to
    assert "step_up_succeeded" in own_events(api)

    assert api.post("/v1/cli/logins/approve", approve).status_code == 200
    token = cli.post("/v1/cli/logins/token", {"device_code": started["device_code"]}, browser=False)
    assert token.status_code == 200 and token.json["access_token"]
    # The CLI session was won as the approving one was: through the provider.
    bearer = {"authorization": f"Bearer {token.json['access_token']}"}
    [mine] = [s for s in cli.get("/v1/account/sessions", headers=bearer, browser=False).json["sessions"]
              if s["current"]]
    assert (mine["kind"], mine["auth"]) == ("cli", "sso")


def test_step_up_is_refused_for_another_person_or_without_mfa(api, connection, provider):
    assert sso_login(api, provider).status_code == 303
    for email, amr, error in [("bob@example.org", ("pwd", "mfa"), "sso_refused"),
                              ("ada@example.org", NO_MFA, "idp_mfa_required")]:
        url = api.post("/v1/account/step-up/sso", {}).json["redirect_url"]
        refused = callback(api, provider.log_in(url, email, amr=amr), JSON)
        assert (refused.status_code, refused.json["error"]) == (403 if error == "idp_mfa_required" else 401, error)
    assert "sso_step_up_refused" in own_events(api)


def test_a_password_session_steps_up_with_its_methods_not_the_provider(alice, api, connection):
    refused = api.post("/v1/account/step-up/sso", {})
    assert (refused.status_code, refused.json["error"]) == (409, "not_sso_session")


def make_stale(api) -> None:
    """The session's last second factor, an hour ago."""
    from chalicelib import store

    [listed] = [s for s in api.get("/v1/account/sessions").json["sessions"] if s["current"]]
    [session] = [s for s in store.list_sessions(api.get("/v1/account").json["id"], int(time.time()))
                 if s["session_id"] == listed["id"]]
    boto3.client("dynamodb").update_item(
        TableName=LOCAL_STAGE["TABLE_NAME"], Key={"PK": {"S": f"SESSION#{session['token_hash']}"},
                                                  "SK": {"S": "SESSION"}},
        UpdateExpression="SET mfa_at = :old", ExpressionAttributeValues={":old": {"N": str(int(time.time()) - 3600)}})


def test_starts_are_limited_per_ip(api, connection, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("SSO_START_LIMIT_PER_IP", "2")
    get_settings.cache_clear()
    assert [api.post("/v1/sso/start", {"email": "ada@example.org"}).status_code for _ in range(3)] == [200, 200, 429]
