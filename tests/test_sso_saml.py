"""SSO through a SAML identity provider, end to end on the API (Chalice's test client) with a real
IdP (pysaml2 signing with xmlsec1, tests/support/saml_idp.py): start, the ACS, just-in-time
accounts, the session it issues, every refusal, single use, step-up and CLI approval.

The IdP stamps real time, so every test sets the service clock to the real time first. The
connection's id is fixed (CID) so that one IdP, started once for the module, knows our SP
entity id and ACS for every test's connection.
"""
import base64
import time
import urllib.parse
import zlib

import pytest
from lxml import etree

from tests.support import LOCAL_STAGE, table
from tests.support.journeys import PASSWORD, Person, assert_ends_ten_days_after
from tests.support.saml_idp import OTHER_SP, REFEDS_MFA, SAMLP, saml_idp, wrap_beside, wrap_moved
from tests.test_cli_login import start as start_cli_login

CID = "5a" * 16
DOMAIN = "example.org"
OPERATOR = "arn:aws:iam::123456789012:user/operator"
SESSION_COOKIE = "__Host-mfa_session"
SSO_COOKIE = "__Host-mfa_sso"
FORM = "application/x-www-form-urlencoded"
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HOUR, DAY = 3600, 24 * 3600
MFA_SENTENCE = "Your identity provider did not verify a second factor"


def _sp_values(connection_id: str) -> tuple[str, str]:
    """(SP entity id, ACS URL) of a SAML connection, as the service computes them for the local stage."""
    from chalicelib.config import get_settings
    from chalicelib.services.sso import login

    with pytest.MonkeyPatch.context() as env:
        for name, value in LOCAL_STAGE.items():
            env.setenv(name, value)
        get_settings.cache_clear()
        try:
            return (login.sp_entity_id(connection_id),
                    login.callback_url({"connection_id": connection_id, "protocol": "saml"}))
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="module")
def idp():
    sp_entity_id, acs_url = _sp_values(CID)
    with saml_idp(sp_entity_id, acs_url) as running:
        running.sp_entity_id, running.acs_url = sp_entity_id, acs_url
        yield running


@pytest.fixture
def connection(app_module, clock, idp):
    """The SAML connection of example.org to the module's IdP, added as an operator does; the
    service clock at the real time (the IdP's)."""
    from chalicelib.services.sso import connections

    clock.t = time.time()
    with pytest.MonkeyPatch.context() as fixed:
        fixed.setattr(connections, "random_id", lambda: CID)
        added = connections.add_saml(name="Example", domains=[DOMAIN], metadata_xml=idp.metadata_xml,
                                     operator_arn=OPERATOR)
    assert added["connection_id"] == CID
    return added


# ---------------------------------------------------------------- helpers

def start(api, **body) -> str:
    """The redirect URL of POST /v1/sso/start (the binding cookie goes into api's jar)."""
    response = api.post("/v1/sso/start", body)
    assert response.status_code == 200, response.json
    assert SSO_COOKIE in api.cookies
    return response.json["redirect_url"]


def saml_request_of(url: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["SAMLRequest"][0]


def authn_request(url: str):
    return etree.fromstring(zlib.decompress(base64.b64decode(saml_request_of(url)), -15))


def post_acs(api, saml_response: str, relay_state: str | None = None, *, acs_url: str | None = None,
             accept: str = HTML_ACCEPT, idp=None):
    """The browser's auto-submitted form from the IdP's page: a cross-site form POST (the IdP's
    Origin, no X-Requested-With), with the browser's cookies."""
    path = urllib.parse.urlsplit(acs_url).path if acs_url else f"/v1/sso/{CID}/saml/acs"
    form = {"SAMLResponse": saml_response, **({"RelayState": relay_state} if relay_state is not None else {})}
    headers = {"content-type": FORM, "accept": accept}
    if idp is not None:
        headers["origin"] = idp.sso_url.rsplit("/", 1)[0]
    origin, api.origin = api.origin, None
    try:
        return api.request("POST", path, raw=urllib.parse.urlencode(form).encode(), headers=headers)
    finally:
        api.origin = origin


def sso_login(api, idp, who: str, *, mfa: bool = True, accept: str = HTML_ACCEPT, **start_body):
    """A whole login in the browser `api`: start (by default with `who`'s email), log in at
    the IdP as `who`, post its form to the ACS."""
    url = start(api, **({"email": who} | start_body if "connection_id" not in start_body else start_body))
    acs_url, response, relay_state = idp.log_in(url, who, mfa=mfa)
    return post_acs(api, response, relay_state, acs_url=acs_url, accept=accept, idp=idp)


def issued(api, idp, email: str, **variant) -> str:
    """A SAMLResponse from the IdP's signing code to a request the browser `api` just started."""
    return idp.issue(saml_request_of(start(api, email=email)), email, **variant)


def assert_logged_in(response, api, email: str, return_to: str = "/account") -> dict:
    assert response.status_code == 303, (response.status_code, response.body)
    assert response.headers["Location"] == "http://localhost:8000" + return_to
    assert SESSION_COOKIE in api.cookies and SSO_COOKIE not in api.cookies
    account = api.get("/v1/account")
    assert account.status_code == 200 and account.json["email"] == email
    return account.json


def assert_refused(response, api, status: int, code: str, *, reason: str | None = None):
    """Refused, with no session: an HTML page naming the error (a browser), or JSON (an API client)."""
    assert response.status_code == status, (response.status_code, response.body)
    if response.json is not None:
        assert response.json["error"] == code, response.json
        if reason:
            assert response.json["reason"] == reason, response.json
    else:
        assert response.headers["Content-Type"].startswith("text/html")
        assert f'data-error="{code}"' in response.body.decode()
    assert SESSION_COOKIE not in api.cookies
    assert api.get("/v1/account").status_code == 401


def events(api) -> list[dict]:
    return api.get("/v1/account/events").json["events"]


def connection_events() -> list[dict]:
    """The connection's own log (operators read it), oldest first, as stored."""
    rows = table.items_of(sk_prefix="EVENT#", pk_prefix=f"SSO#{CID}")
    return [{"kind": r["kind"]["S"], "details": {k: v.get("S") for k, v in r.get("details", {}).get("M", {}).items()}}
            for r in sorted(rows, key=lambda r: r["SK"]["S"])]


def event_of(kind: str, logged: list[dict]) -> dict:
    """The one event of `kind` (the frozen clock gives events of one request the same time, so
    their order is not asserted)."""
    [found] = [e for e in logged if e["kind"] == kind]
    return found


def sessions_stored() -> int:
    return len(table.items_of(sk="SESSION"))


# ---------------------------------------------------------------- start and metadata

def test_start_by_email_or_connection_sends_the_browser_to_the_idp_asking_for_refeds_mfa(connection, api, idp):
    for body in ({"email": "Alice@Example.org"}, {"connection_id": CID}):
        url = start(api, **body)
        assert url.startswith(idp.sso_url + "?")
        request = authn_request(url)
        assert request.tag == f"{{{SAMLP}}}AuthnRequest" and request.get("ForceAuthn") is None
        assert request.get("AssertionConsumerServiceURL") == idp.acs_url
        context = request.find(f"{{{SAMLP}}}RequestedAuthnContext")
        assert [ref.text for ref in context] == [REFEDS_MFA]
        # Stored, single use and bound to this browser's cookie (kept only hashed).
        stored = table._dynamodb().get_item(TableName=table.TABLE, Key={
            "PK": {"S": f"SSOREQUEST#{request.get('ID')}"}, "SK": {"S": "SSOREQUEST"}})["Item"]
        assert stored["used"]["BOOL"] is False and api.cookies[SSO_COOKIE] not in str(stored)


def test_start_for_an_unknown_domain_or_connection_is_404(connection, api):
    for body in ({"email": "alice@example.com"}, {"connection_id": "0" * 32}):
        response = api.post("/v1/sso/start", body)
        assert response.status_code == 404 and response.json["error"] == "sso_not_configured"
        assert SSO_COOKIE not in api.cookies


def test_sp_metadata_names_the_acs_and_entity_id(connection, api, idp):
    response = api.get(f"/v1/sso/{CID}/saml/metadata")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/samlmetadata+xml"
    root = etree.fromstring(response.body)
    assert root.get("entityID") == idp.sp_entity_id
    acs = root.find(".//{urn:oasis:names:tc:SAML:2.0:metadata}AssertionConsumerService")
    assert acs.get("Location") == idp.acs_url


def test_sp_metadata_of_an_oidc_or_unknown_connection_is_404(connection, api):
    from chalicelib import store

    # An OIDC connection as stored (the OIDC protocol module is not on this branch).
    oidc_id = "6b" * 16
    store.transact([store.op_put_connection({"connection_id": oidc_id, "name": "Other", "domains": ["example.net"],
                                             "enforced": False, "created_at": 0, "protocol": "oidc",
                                             "issuer": "https://idp.example.net", "client_id": "client"})])
    for connection_id in (oidc_id, "0" * 32):
        response = api.get(f"/v1/sso/{connection_id}/saml/metadata")
        assert response.status_code == 404 and response.json["error"] == "sso_not_configured"


# ---------------------------------------------------------------- success

def test_a_login_with_mfa_creates_the_account_just_in_time_with_a_web_session(connection, api, idp, clock):
    login_time = clock.now()
    account = assert_logged_in(sso_login(api, idp, "Carol@Example.org"), api, "carol@example.org")
    assert account["verified"] is True and account["enrollment_required"] is False
    # No password: the password step refuses any.
    stored = table.account_item("carol@example.org")
    assert stored["email_verified"]["BOOL"] is True and "password_hash" not in stored
    assert stored["created_by_sso"]["S"] == CID
    for password in (PASSWORD, "whatever", "x" * 12):
        refused = api.post("/v1/login", {"email": "carol@example.org", "password": password})
        assert refused.status_code == 401 and refused.json["error"] == "invalid_credentials"
    [session] = api.get("/v1/account/sessions").json["sessions"]
    assert (session["auth"], session["kind"], session["current"]) == ("sso", "web", True)
    assert session["expires_at"] == int(login_time) + DAY
    kinds = {e["kind"]: e for e in events(api)}
    assert kinds["sso_login_succeeded"]["details"]["connection_id"] == CID
    assert kinds["sso_login_succeeded"]["details"]["authn_context"] == REFEDS_MFA
    assert kinds["account_created_by_sso"]["details"]["connection_id"] == CID
    assert [e["kind"] for e in connection_events()] == ["sso_connection_added"]


@pytest.mark.parametrize("signed", [{"sign_response": True, "sign_assertion": False},
                                    {"sign_response": True, "sign_assertion": True}],
                         ids=["response_only", "both"])
def test_a_signed_response_serves_as_well_as_a_signed_assertion(connection, api, idp, signed):
    assert_logged_in(post_acs(api, issued(api, idp, "carol@example.org", **signed)), api, "carol@example.org")


def test_return_to_is_honoured_and_an_open_redirect_is_not(connection, make_client, idp):
    api = make_client()
    assert_logged_in(sso_login(api, idp, "carol@example.org", email="carol@example.org",
                               return_to="/cli-login?user_code=BCDF-GHJK"),
                     api, "carol@example.org", "/cli-login?user_code=BCDF-GHJK")
    for evil in ("//evil.example/", "/\\evil.example", "https://evil.example/"):
        other = make_client()
        assert_logged_in(sso_login(other, idp, "carol@example.org", email="carol@example.org", return_to=evil),
                         other, "carol@example.org", "/account")


def test_json_answer_for_an_api_client(connection, api, idp):
    response = sso_login(api, idp, "carol@example.org", accept="application/json")
    assert response.status_code == 200, response.json
    assert response.json["return_to"] == "/account" and response.json["auth"] == "sso"
    assert response.json["session_id"] and SESSION_COOKIE in api.cookies


def test_the_sso_session_lasts_like_a_password_one(connection, api, idp, clock):
    login_time = clock.now()
    assert_logged_in(sso_login(api, idp, "carol@example.org"), api, "carol@example.org")
    # Sliding: 24 h after the last use...
    clock.advance(DAY - 1)
    assert api.get("/v1/account").status_code == 200
    # ... never beyond 10 days.
    assert_ends_ten_days_after(api, clock, login_time)


def test_an_idle_sso_session_ends_after_24_hours(connection, api, idp, clock):
    assert_logged_in(sso_login(api, idp, "carol@example.org"), api, "carol@example.org")
    clock.advance(DAY)
    assert api.get("/v1/account").status_code == 401


def test_an_existing_password_account_of_the_domain_logs_in_to_the_same_account(connection, make_client, idp, clock):
    password_browser = make_client()
    bob = Person(password_browser, clock, email="bob@example.org").onboard()
    account_id = password_browser.get("/v1/account").json["id"]
    api = make_client()
    account = assert_logged_in(sso_login(api, idp, bob.email), api, bob.email)
    assert account["id"] == account_id
    assert account["methods_count"] == 1  # the TOTP method is still there
    kinds = [e["kind"] for e in events(api)]
    assert "sso_login_succeeded" in kinds and "account_created_by_sso" not in kinds
    assert sorted(s["auth"] for s in api.get("/v1/account/sessions").json["sessions"]) == ["password", "sso"]


def test_an_unverified_sign_up_by_someone_else_does_not_survive_the_first_sso_login(connection, make_client, idp):
    """Pre-hijacking: whoever signed up with Carol's address (they cannot read her mail) loses
    that account, password and verification link, when Carol first logs in through her IdP."""
    from tests.support.journeys import verification_token

    attacker = make_client()
    squatter = Person(attacker, None, email="carol@example.org", password="the attacker's password")
    squatter.sign_up(verify=False)
    squatted_id = table.account_item("carol@example.org")["account_id"]["S"]
    link_token = verification_token(attacker, "carol@example.org")
    api = make_client()
    account = assert_logged_in(sso_login(api, idp, "carol@example.org"), api, "carol@example.org")
    assert account["id"] != squatted_id
    assert squatter.password_step().status_code == 401
    # The address is verified now (by the IdP): the pending link makes nothing and says so.
    refused = attacker.post("/v1/accounts/verify-email", {"token": link_token})
    assert refused.status_code == 409 and refused.json["error"] == "email_already_verified"
    assert api.get("/v1/account").json["id"] == account["id"]


def test_two_first_logins_of_one_person_at_once_make_one_account(connection, make_client, idp, race):
    from chalicelib import store

    first, second = make_client(), make_client()
    first_answer, second_answer = issued(first, idp, "carol@example.org"), issued(second, idp, "carol@example.org")
    # The first has read "no account" and holds before its transaction; the second logs in.
    lost, won = race(lambda: post_acs(first, first_answer, accept="application/json"),
                     lambda: post_acs(second, second_answer, accept="application/json"),
                     pause_before=(store, "transact"))
    assert won.status_code == 200, won.json
    assert lost.status_code == 429 and lost.json["error"] == "try_again"
    assert SESSION_COOKIE not in first.cookies and sessions_stored() == 1
    assert [i["account_id"]["S"] for i in table.items_of(sk="ACCOUNT")] == [second.get("/v1/account").json["id"]]
    # The first browser starts again and lands in that account.
    again = sso_login(first, idp, "carol@example.org")
    assert assert_logged_in(again, first, "carol@example.org")["id"] == second.get("/v1/account").json["id"]


def test_an_enforced_domain_logs_in_by_sso_only(connection, make_client, idp, clock):
    from chalicelib.services.sso import connections

    password_browser = make_client()
    bob = Person(password_browser, clock, email="bob@example.org").onboard()
    connections.set_enforced(CID, True, OPERATOR)
    refused = bob.password_step()
    assert refused.status_code == 403 and refused.json["error"] == "sso_required"
    assert refused.json["connection_id"] == CID
    signup = make_client().post("/v1/accounts", {"email": "dave@example.org", "password": PASSWORD})
    assert signup.status_code == 403 and signup.json["error"] == "sso_required"
    api = make_client()
    assert_logged_in(sso_login(api, idp, bob.email), api, bob.email)
    dave = make_client()
    assert_logged_in(sso_login(dave, idp, "dave@example.org"), dave, "dave@example.org")


# ---------------------------------------------------------------- refusals

def test_without_mfa_at_the_idp_the_login_is_refused_with_a_clear_page(connection, make_client, idp):
    api = make_client()
    page = sso_login(api, idp, "carol@example.org", mfa=False)
    assert_refused(page, api, 403, "idp_mfa_required")
    assert MFA_SENTENCE in page.body.decode()
    assert page.headers["Cache-Control"] == "no-store"
    # An unknown person: refused before any account exists; the connection's log says why.
    with pytest.raises(KeyError):
        table.account_item("carol@example.org")
    refusal = event_of("sso_login_refused", connection_events())
    assert refusal["details"]["reason"] == "idp_mfa_missing"

    json_client = make_client()
    answer = sso_login(json_client, idp, "carol@example.org", mfa=False, accept="application/json")
    assert_refused(answer, json_client, 403, "idp_mfa_required")
    assert MFA_SENTENCE in answer.json["message"]


def test_a_refusal_without_mfa_is_on_a_known_persons_audit_log(connection, make_client, idp):
    api = make_client()
    assert_logged_in(sso_login(api, idp, "carol@example.org"), api, "carol@example.org")
    other = make_client()
    assert_refused(sso_login(other, idp, "carol@example.org", mfa=False), other, 403, "idp_mfa_required")
    refusal = event_of("sso_login_refused", events(api))
    assert refusal["details"]["connection_id"] == CID and refusal["details"]["reason"] == "idp_mfa_missing"
    assert refusal["details"]["authn_context"] != REFEDS_MFA
    assert len(api.get("/v1/account/sessions").json["sessions"]) == 1


@pytest.mark.parametrize("forgery, reason", [
    (lambda idp, api: issued(api, idp, "carol@example.org", sign_assertion=False, sign_response=False), "unsigned"),
    (lambda idp, api: wrap_beside(issued(api, idp, "mallory@example.org"), "carol@example.org"),
     "multiple_assertions"),
    (lambda idp, api: wrap_moved(issued(api, idp, "mallory@example.org"), "carol@example.org"),
     "multiple_assertions"),
    (lambda idp, api: wrap_moved(issued(api, idp, "mallory@example.org"), "carol@example.org", into="Object"),
     "multiple_assertions"),
    (lambda idp, api: issued(api, idp, "carol@example.org", audience=OTHER_SP), "wrong_audience"),
    (lambda idp, api: issued(api, idp, "carol@example.org", sha1=True), "invalid_signature"),
], ids=["unsigned", "wrapping_beside", "wrapping_moved", "wrapping_in_object", "wrong_audience", "sha1"])
def test_answers_that_cannot_be_trusted_are_refused(connection, api, idp, forgery, reason):
    response = post_acs(api, forgery(idp, api), accept="application/json")
    assert_refused(response, api, 401, "sso_refused", reason=reason)
    assert sessions_stored() == 0
    assert event_of("sso_login_refused", connection_events())["details"]["reason"] == reason
    with pytest.raises(KeyError):
        table.account_item("carol@example.org")


def _edited(saml_response: str, **attributes) -> str:
    """The Response element's (unsigned, outside the signed assertion) attributes changed."""
    root = etree.fromstring(base64.b64decode(saml_response))
    for name, value in attributes.items():
        root.set(name, value)
    return base64.b64encode(etree.tostring(root)).decode()


@pytest.mark.parametrize("attributes, reason", [
    ({"Destination": "https://evil.example/acs"}, "wrong_destination"),
    ({"InResponseTo": "_" + "e" * 32}, "in_response_to_mismatch"),
])
def test_the_unsigned_response_around_a_signed_assertion_can_only_refuse(connection, api, idp, attributes, reason):
    genuine = issued(api, idp, "carol@example.org")
    answer = post_acs(api, _edited(genuine, **attributes), accept="application/json")
    assert_refused(answer, api, 401, "sso_refused", reason=reason)
    # Nothing was used up: the genuine answer still logs in.
    assert_logged_in(post_acs(api, genuine), api, "carol@example.org")


def test_a_forgery_is_refused_as_a_page_too(connection, api, idp):
    forged = wrap_beside(issued(api, idp, "mallory@example.org"), "carol@example.org")
    page = post_acs(api, forged)
    assert_refused(page, api, 401, "sso_refused")
    assert "carol" not in page.body.decode() and "mallory" not in page.body.decode()


def test_an_expired_answer_is_refused(connection, api, idp, clock):
    response = issued(api, idp, "carol@example.org")
    # pysaml2's assertions live 5 minutes (from the real time they are issued, a little after
    # the clock was set); the service allows 2 minutes of skew.
    clock.advance(5 * 60 + 120 + 30)
    assert_refused(post_acs(api, response, accept="application/json"), api, 401, "sso_refused", reason="expired")


def test_an_answer_just_inside_the_skew_is_accepted(connection, api, idp, clock):
    response = issued(api, idp, "carol@example.org")
    clock.advance(5 * 60 + 120 - 5)
    assert_logged_in(post_acs(api, response), api, "carol@example.org")


def test_an_answer_from_the_future_beyond_the_skew_is_refused(connection, api, idp, clock):
    response = issued(api, idp, "carol@example.org")
    clock.advance(-(120 + 60))
    answer = post_acs(api, response, accept="application/json")
    assert_refused(answer, api, 401, "sso_refused", reason="not_yet_valid")


def test_a_replayed_answer_is_refused_in_the_same_browser(connection, api, idp):
    response = issued(api, idp, "carol@example.org")
    assert_logged_in(post_acs(api, response), api, "carol@example.org")
    api.post("/v1/logout")
    api.cookies.pop(SESSION_COOKIE, None)
    again = post_acs(api, response, accept="application/json")
    assert_refused(again, api, 400, "sso_request_invalid")
    assert sessions_stored() == 0


def test_a_replayed_answer_is_refused_in_another_browser_that_started_its_own_request(connection, make_client, idp):
    victim, attacker = make_client(), make_client()
    response = issued(victim, idp, "carol@example.org")
    assert_logged_in(post_acs(victim, response), victim, "carol@example.org")
    start(attacker, email="carol@example.org")  # the attacker's own, genuine request and cookie
    assert_refused(post_acs(attacker, response, accept="application/json"), attacker, 400, "sso_request_invalid")
    assert sessions_stored() == 1


def test_an_answer_captured_before_use_does_not_work_in_another_browser(connection, make_client, idp):
    victim, attacker = make_client(), make_client()
    response = issued(victim, idp, "carol@example.org")
    start(attacker, email="carol@example.org")
    assert_refused(post_acs(attacker, response, accept="application/json"), attacker, 400, "sso_request_invalid")
    # The request was not used up by the attempt: its own browser still finishes.
    assert_logged_in(post_acs(victim, response), victim, "carol@example.org")


def test_a_foreign_in_response_to_is_refused(connection, make_client, idp):
    api, other = make_client(), make_client()
    foreign = saml_request_of(start(other, email="carol@example.org"))
    other_id = etree.fromstring(zlib.decompress(base64.b64decode(foreign), -15)).get("ID")
    for in_response_to in ("_" + "f" * 32, other_id):
        response = issued(api, idp, "carol@example.org", in_response_to=in_response_to)
        assert_refused(post_acs(api, response, accept="application/json"), api, 400, "sso_request_invalid")
    assert sessions_stored() == 0


def test_an_answer_posted_without_the_browsers_binding_cookie_is_refused(connection, make_client, idp):
    api = make_client()
    response = issued(api, idp, "carol@example.org")
    cookie = api.cookies.pop(SSO_COOKIE)
    assert_refused(post_acs(api, response, accept="application/json"), api, 400, "sso_request_invalid")
    api.cookies[SSO_COOKIE] = "x" * 43
    assert_refused(post_acs(api, response, accept="application/json"), api, 400, "sso_request_invalid")
    api.cookies[SSO_COOKIE] = cookie
    assert_logged_in(post_acs(api, response), api, "carol@example.org")


def test_the_request_expires_after_ten_minutes(connection, make_client, idp, clock):
    # The request is made 10 minutes before the IdP (real time) answers it.
    real = clock.now()
    late, in_time = make_client(), make_client()
    clock.t = real - 600
    late_url = start(late, email="carol@example.org")
    clock.t = real - 599
    in_time_url = start(in_time, email="carol@example.org")
    clock.t = real
    late_answer = idp.issue(saml_request_of(late_url), "carol@example.org")
    in_time_answer = idp.issue(saml_request_of(in_time_url), "carol@example.org")
    assert_refused(post_acs(late, late_answer, accept="application/json"), late, 400, "sso_request_invalid")
    assert_logged_in(post_acs(in_time, in_time_answer), in_time, "carol@example.org")


def test_an_email_outside_the_connections_domains_is_refused(connection, api, idp):
    response = sso_login(api, idp, "mallory@example.net", email="carol@example.org", accept="application/json")
    assert_refused(response, api, 403, "sso_email_not_allowed")
    with pytest.raises(KeyError):
        table.account_item("mallory@example.net")
    assert event_of("sso_login_refused", connection_events())["details"]["reason"] == "email_domain"


def test_a_bad_form_is_refused_without_a_session(connection, api):
    start(api, email="carol@example.org")
    for form in ({"SAMLResponse": "not base64 !"}, {"SAMLResponse": base64.b64encode(b"<x/>").decode()}):
        answer = post_acs(api, form["SAMLResponse"], accept="application/json")
        assert_refused(answer, api, 401, "sso_refused", reason="malformed")
    missing = api.request("POST", f"/v1/sso/{CID}/saml/acs", raw=b"RelayState=x",
                          headers={"content-type": FORM, "accept": "application/json"})
    assert missing.status_code == 400 and SESSION_COOKIE not in api.cookies


def test_an_acs_of_another_connection_is_refused(connection, api, idp):
    response = issued(api, idp, "carol@example.org")
    answer = post_acs(api, response, acs_url=f"http://localhost:8000/v1/sso/{'0' * 32}/saml/acs",
                      accept="application/json")
    assert_refused(answer, api, 404, "sso_not_configured")


# ---------------------------------------------------------------- single use, staged

def test_the_request_is_used_once_even_when_the_second_post_comes_while_the_first_is_finishing(
        connection, make_client, idp, race):
    from chalicelib import store

    api = make_client()
    response = issued(api, idp, "carol@example.org")
    # The first post has used the request and holds before writing the session; the second
    # (same browser, same answer) arrives then.
    first, second = race(lambda: post_acs(api, response, accept="application/json"),
                         lambda: post_acs(api, response, accept="application/json"),
                         pause_before=(store, "transact"))
    assert second.status_code == 400 and second.json["error"] == "sso_request_invalid"
    assert first.status_code == 200, first.json
    assert sessions_stored() == 1


def test_the_assertion_id_is_single_use_even_if_its_request_could_be_used_again(connection, api, idp, clock):
    """The second guard: were the request's single use to fail (here: set unused again in the
    table), the assertion id, kept until the assertion expires, still refuses a replay."""
    url = start(api, email="carol@example.org")
    request_id = authn_request(url).get("ID")
    response = idp.issue(saml_request_of(url), "carol@example.org")
    cookie = api.cookies[SSO_COOKIE]
    assert_logged_in(post_acs(api, response), api, "carol@example.org")
    [kept] = table.items_of(pk_prefix="SSOASSERTION#")
    assert int(kept["expires_at"]["N"]) > clock.now()

    table._dynamodb().update_item(TableName=table.TABLE, Key={
        "PK": {"S": f"SSOREQUEST#{request_id}"}, "SK": {"S": "SSOREQUEST"}},
        UpdateExpression="SET used = :f", ExpressionAttributeValues={":f": {"BOOL": False}})
    api.cookies.pop(SESSION_COOKIE)
    api.cookies[SSO_COOKIE] = cookie
    clock.advance(60)
    replay = post_acs(api, response, accept="application/json")
    assert_refused(replay, api, 401, "sso_refused", reason="replayed")
    assert sessions_stored() == 1


# ---------------------------------------------------------------- step-up and CLI approval

def age_second_factor(seconds: int) -> None:
    """Every session's last second factor `seconds` older (the IdP stamps real time, so the
    service clock cannot simply move ahead of it)."""
    for item in table.items_of(sk="SESSION"):
        table._dynamodb().update_item(TableName=table.TABLE, Key={"PK": item["PK"], "SK": item["SK"]},
                                      UpdateExpression="SET mfa_at = mfa_at - :s",
                                      ExpressionAttributeValues={":s": {"N": str(seconds)}})


def sso_step_up(api, idp, email: str, return_to: str, *, mfa: bool = True, accept: str = HTML_ACCEPT):
    started = api.post("/v1/account/step-up/sso", {"return_to": return_to})
    assert started.status_code == 200, started.json
    url = started.json["redirect_url"]
    assert authn_request(url).get("ForceAuthn") == "true"
    acs_url, response, relay_state = idp.log_in(url, email, mfa=mfa)
    return post_acs(api, response, relay_state, acs_url=acs_url, accept=accept, idp=idp)


def test_a_cli_login_is_approved_by_an_sso_user(connection, api, idp, cli, clock):
    started = start_cli_login(cli)
    assert_logged_in(sso_login(api, idp, "carol@example.org",
                               return_to=f"/cli-login?user_code={started['user_code']}"),
                     api, "carol@example.org", f"/cli-login?user_code={started['user_code']}")
    assert api.get(f"/v1/cli/logins/{started['user_code']}").json["status"] == "pending"
    approved = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    clock.advance(5)
    token = cli.post("/v1/cli/logins/token", {"device_code": started["device_code"]}, browser=False)
    assert token.status_code == 200, token.json
    bearer = {"authorization": f"Bearer {token.json['access_token']}"}
    assert cli.get("/v1/account", headers=bearer, browser=False).json["email"] == "carol@example.org"


def test_an_sso_session_cannot_step_up_with_a_local_method(connection, make_client, idp, clock):
    password_browser = make_client()
    bob = Person(password_browser, clock, email="bob@example.org").onboard()
    api = make_client()
    assert_logged_in(sso_login(api, idp, bob.email), api, bob.email)
    sso_bob = bob.in_another_browser(api)
    refused = sso_bob.step_up()
    assert refused.status_code == 403 and refused.json["error"] == "sso_reauthentication_required"
    assert refused.json["sso_step_up"] == "/v1/account/step-up/sso"
    challenge = api.post("/v1/account/step-up/challenges", {"method_id": bob.method_id})
    assert challenge.status_code == 403 and challenge.json["error"] == "sso_reauthentication_required"
    # A password session cannot step up at the IdP.
    not_sso = password_browser.post("/v1/account/step-up/sso", {"return_to": "/account"})
    assert not_sso.status_code == 409 and not_sso.json["error"] == "not_sso_session"


def test_step_up_at_the_idp_then_a_cli_login_is_approved(connection, api, idp, cli, clock):
    assert_logged_in(sso_login(api, idp, "carol@example.org"), api, "carol@example.org")
    age_second_factor(11 * 60)
    started = start_cli_login(cli)
    refused = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert refused.status_code == 403 and refused.json["error"] == "step_up_required"

    local = api.post("/v1/account/step-up", {"method_id": "0" * 32, "code": "123456"})
    assert local.status_code == 403 and local.json["error"] == "sso_reauthentication_required"

    return_to = f"/cli-login?user_code={started['user_code']}"
    answer = sso_step_up(api, idp, "carol@example.org", return_to)
    assert answer.status_code == 303, answer.body
    assert answer.headers["Location"] == "http://localhost:8000" + return_to
    assert len(api.get("/v1/account/sessions").json["sessions"]) == 1  # the same session, no new one
    [stored] = table.items_of(sk="SESSION")
    assert int(stored["mfa_at"]["N"]) == int(clock.now())
    assert event_of("step_up_succeeded", events(api))["details"]["connection_id"] == CID

    approved = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert approved.status_code == 200, approved.json
    clock.advance(5)
    assert cli.post("/v1/cli/logins/token", {"device_code": started["device_code"]}, browser=False).status_code == 200


def test_a_step_up_answer_for_another_person_is_refused(connection, api, idp, cli):
    assert_logged_in(sso_login(api, idp, "carol@example.org"), api, "carol@example.org")
    age_second_factor(11 * 60)
    answer = sso_step_up(api, idp, "dave@example.org", "/account", accept="application/json")
    assert answer.status_code == 401 and answer.json["error"] == "sso_refused"
    assert answer.json["reason"] == "another_person"
    assert int(table.items_of(sk="SESSION")[0]["mfa_at"]["N"]) < int(time.time()) - 600
    started = start_cli_login(cli)
    still = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert still.status_code == 403 and still.json["error"] == "step_up_required"
    assert event_of("sso_step_up_refused", events(api))["details"]["reason"] == "another_person"
    with pytest.raises(KeyError):
        table.account_item("dave@example.org")


def test_a_step_up_without_mfa_at_the_idp_is_refused(connection, api, idp):
    assert_logged_in(sso_login(api, idp, "carol@example.org"), api, "carol@example.org")
    age_second_factor(11 * 60)
    page = sso_step_up(api, idp, "carol@example.org", "/account", mfa=False)
    assert page.status_code == 403 and 'data-error="idp_mfa_required"' in page.body.decode()
    assert MFA_SENTENCE in page.body.decode()
    assert int(table.items_of(sk="SESSION")[0]["mfa_at"]["N"]) < int(time.time()) - 600
    refusal = event_of("sso_step_up_refused", events(api))
    assert refusal["details"]["reason"] == "idp_mfa_missing"
    assert api.get("/v1/account").status_code == 200  # the session itself goes on


def test_a_step_up_answer_from_an_authentication_before_the_request_is_refused(connection, api, idp, clock):
    """An IdP that ignored ForceAuthn (its AuthnInstant is older than our request, beyond the
    skew) does not step the session up."""
    assert_logged_in(sso_login(api, idp, "carol@example.org"), api, "carol@example.org")
    age_second_factor(11 * 60)
    clock.advance(130)  # the IdP's AuthnInstant (real time) is now 130 s before our request
    started = api.post("/v1/account/step-up/sso", {"return_to": "/account"})
    stale = idp.issue(saml_request_of(started.json["redirect_url"]), "carol@example.org")
    answer = post_acs(api, stale, accept="application/json")
    assert answer.status_code == 401 and answer.json["reason"] == "stale_authentication"
    assert event_of("sso_step_up_refused", events(api))["details"]["reason"] == "stale_authentication"
