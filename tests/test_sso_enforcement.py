"""SSO enforcement: with its domain's connection enforced, a password logs no one in (not at
the password step, not at the verify step of a login begun before, not at sign-up), every
answer says where to start instead and reveals no account, the methods stay stored, and
lifting enforcement restores password logins. POST /v1/sso/start and its refusals."""
import pytest

from tests.support.http import set_cookies
from tests.support.journeys import PASSWORD, Person, mailbox, totp_code
from tests.support.sso import OPERATOR, add_connection
from tests.support.table import items_of


def enforce(connection: dict, enforced: bool = True) -> None:
    from chalicelib.services.sso import connections

    connections.set_enforced(connection["connection_id"], enforced, OPERATOR)


def assert_sso_required(response, connection: dict | None) -> None:
    assert response.status_code == 403, response.json
    assert response.json["error"] == "sso_required" and response.json["sso_start"] == "/v1/sso/start"
    if connection:
        assert response.json["connection_id"] == connection["connection_id"]


def stored_methods(email: str) -> list[str]:
    from chalicelib import store

    account = store.get_account(email, 0)
    return sorted(m["method_id"] for m in store.list_methods(account["account_id"], 0))


def test_password_login_works_while_the_connection_is_not_enforced(alice, api, clock):
    add_connection("example.com")
    api.post("/v1/logout")
    assert alice.login().status_code == 200
    assert api.get("/v1/account").status_code == 200


@pytest.mark.parametrize("protocol", ["saml", "oidc"])
def test_enforced_the_password_step_answers_sso_required_for_anyone_of_the_domain(alice, api, clock, protocol):
    connection = add_connection("example.com", protocol=protocol, enforced=True)
    api.post("/v1/logout")
    answers = [api.post("/v1/login", {"email": email, "password": password}) for email, password in (
        (alice.email, PASSWORD), (alice.email, "a wrong password, not hers"), ("Alice@EXAMPLE.com", PASSWORD),
        ("nobody@example.com", PASSWORD))]
    for answer in answers:
        assert_sso_required(answer, connection)
    # The same answer whether the account exists and the password is right: no account revealed.
    assert all(a.json == answers[0].json for a in answers)
    assert all(set_cookies(a) == [] for a in answers)   # no login attempt, no session
    assert api.get("/v1/account").status_code == 401
    if protocol == "saml":   # (an OIDC start would read the unreachable issuer's discovery document)
        # Where it says to start: the identity provider.
        started = api.post(answers[0].json["sso_start"], {"connection_id": answers[0].json["connection_id"]})
        assert started.status_code == 200 and started.json["redirect_url"].startswith("https://idp.example.com/sso?")


def test_enforced_the_answer_stays_sso_required_however_many_tries(alice, api, clock):
    from chalicelib.config import get_settings

    connection = add_connection("example.com", enforced=True)
    api.post("/v1/logout")
    for _ in range(get_settings().login_limit_per_email + 1):
        assert_sso_required(api.post("/v1/login", {"email": alice.email, "password": "guess"}), connection)
    enforce(connection, False)
    # Every try counted (before any password is looked at); the next window is open again.
    assert api.post("/v1/login", {"email": alice.email, "password": "guess"}).status_code == 429
    clock.advance(get_settings().login_window_seconds)
    assert alice.login().status_code == 200


def test_sign_up_of_an_enforced_domain_is_sso_required(api, clock, person):
    connection = add_connection("example.com", enforced=True)
    refused = api.post("/v1/accounts", {"email": "newcomer@example.com", "password": PASSWORD})
    assert_sso_required(refused, connection)
    assert mailbox(api, "newcomer@example.com") == []
    # Another domain signs up as before.
    assert api.post("/v1/accounts", {"email": "bob@example.org", "password": PASSWORD}).status_code == 202


def test_a_login_begun_before_enforcement_ends_at_its_verify_step(alice, api, clock):
    connection = add_connection("example.com")
    api.post("/v1/logout")
    sessions_before = len(items_of(sk="SESSION"))
    login_id = alice.start_login()
    enforce(connection)
    refused = alice.verify(login_id)   # the right code
    assert_sso_required(refused, None)
    assert set_cookies(refused) == []
    assert len(items_of(sk="SESSION")) == sessions_before
    assert api.get("/v1/account").status_code == 401


def test_enforcement_ends_a_login_at_the_verify_read_before_its_try_counts(alice, api, clock):
    """The verify step reads the domain's enforcement with the attempt (the browser token
    names the domain): refused before a try is counted, with where to start instead."""
    from chalicelib import store

    connection = add_connection("example.com")
    login_id = alice.start_login()
    enforce(connection)
    assert_sso_required(alice.verify(login_id), connection)
    attempt = store.get_login_attempt(login_id)
    assert attempt["tries"] == 0 and not attempt["used"]
    assert (store.get_lockout(attempt["account_id"], int(clock.now())) or {}).get("failures", 0) == 0


def test_a_login_begun_with_a_token_naming_no_domain_is_checked_as_its_session_is_issued(
        alice, api, clock, monkeypatch):
    """A browser token from before tokens named the domain (begun before an update): the
    domain is checked in the transaction that issues the session, as it was then."""
    from chalicelib.services import login_attempts

    connection = add_connection("example.com")
    api.post("/v1/logout")
    sessions_before = len(items_of(sk="SESSION"))
    named = login_attempts.new_browser_token
    monkeypatch.setattr(login_attempts, "new_browser_token",
                        lambda *args: named(*args).partition("!")[0])
    login_id = alice.start_login()
    assert "!" not in api.cookies["__Host-mfa_login"]
    enforce(connection)
    assert_sso_required(alice.verify(login_id), None)
    assert len(items_of(sk="SESSION")) == sessions_before


def test_enforced_the_methods_stay_stored_and_lifting_it_restores_password_login(alice, api, clock):
    connection = add_connection("example.com", enforced=True)
    api.post("/v1/logout")
    methods = stored_methods(alice.email)
    assert methods == [alice.method_id]
    assert_sso_required(alice.password_step(), connection)
    assert stored_methods(alice.email) == methods

    enforce(connection, False)
    clock.advance(30)
    logged_in = alice.login()
    assert logged_in.status_code == 200, logged_in.json
    assert api.get("/v1/account").status_code == 200
    assert stored_methods(alice.email) == methods


def test_removing_the_connection_restores_password_login(alice, api, clock):
    from chalicelib.services.sso import connections

    connection = add_connection("example.com", enforced=True)
    api.post("/v1/logout")
    assert_sso_required(alice.password_step(), connection)
    connections.remove(connection["connection_id"], OPERATOR)
    assert alice.login().status_code == 200


def test_another_domain_is_unaffected(api, clock, make_client):
    add_connection("example.org", "example.net", enforced=True)
    alice = Person(api, clock).onboard()     # alice@example.com
    api.post("/v1/logout")
    assert alice.login().status_code == 200
    # A domain is matched exactly: a subdomain is another domain.
    carol = Person(make_client(), clock, "carol@mail.example.org").onboard()
    carol.api.post("/v1/logout")
    assert carol.login().status_code == 200


def test_an_enrolment_begun_before_enforcement_does_not_end_in_a_session(person, api, clock):
    connection = add_connection("example.com")
    person.sign_up()
    assert person.password_step().json["enrollment_required"] is True   # a restricted session
    enforce(connection)
    started = api.post("/v1/account/methods/totp", {"label": "Phone"})
    confirmed = api.post(f"/v1/account/methods/{started.json.get('method_id')}/confirm",
                         {"code": totp_code(started.json.get("secret", ""), clock.now())})
    assert confirmed.status_code == 403 and confirmed.json["error"] == "sso_required"


def test_sso_start_needs_a_configured_domain_and_one_of_email_or_connection_id(api, clock):
    connection = add_connection("example.com")
    unconfigured = api.post("/v1/sso/start", {"email": "someone@elsewhere.example"})
    assert unconfigured.status_code == 404 and unconfigured.json["error"] == "sso_not_configured"
    unknown = api.post("/v1/sso/start", {"connection_id": "0" * 32})
    assert unknown.status_code == 404 and unknown.json["error"] == "sso_not_configured"
    for body in ({"email": "alice@example.com", "connection_id": connection["connection_id"]}, {},
                 {"return_to": "/account"}, {"connection_id": "not-an-id"}):
        assert api.post("/v1/sso/start", body).status_code == 400, body
    # Not enforced, SSO is offered all the same.
    started = api.post("/v1/sso/start", {"email": "alice@example.com"})
    assert started.status_code == 200 and started.json["redirect_url"].startswith("https://idp.example.com/sso?")


def test_an_unreachable_oidc_issuer_is_a_clean_refusal(api, clock):
    add_connection("example.com", protocol="oidc")
    started = api.post("/v1/sso/start", {"email": "alice@example.com"})
    assert (started.status_code, started.json["error"]) == (503, "idp_unavailable")
