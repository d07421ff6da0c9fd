"""Session lifetime (sliding 24 h, 10-day cap, bounded writes), listing, revocation, CSRF,
and bearer tokens for CLI sessions."""
import pytest

from tests.support.http import ORIGIN
from tests.support.journeys import Person, assert_ends_ten_days_after, totp_code
from tests.support.table import items, items_of

HOUR = 3600
DAY = 24 * HOUR


@pytest.fixture
def logged_in(alice, api):
    """One live web session, created by a login at the clock's current time."""
    api.post("/v1/logout")
    assert alice.login().status_code == 200
    return alice


def test_web_session_expires_24_hours_after_last_activity(logged_in, api, clock):
    clock.advance(DAY - 1)
    assert api.get("/v1/account").status_code == 200
    clock.advance(DAY - 1)
    assert api.get("/v1/account").status_code == 200
    clock.advance(DAY)
    assert api.get("/v1/account").status_code == 401


def test_web_session_never_outlives_ten_days(logged_in, api, clock):
    assert_ends_ten_days_after(api, clock, clock.now())


def test_sliding_expiry_is_written_at_most_once_per_interval(logged_in, api, clock, monkeypatch):
    from chalicelib import store

    writes = []
    original = store.touch_session
    monkeypatch.setattr(store, "touch_session", lambda *a: (writes.append(a), original(*a)))
    for _ in range(10):
        clock.advance(20)
        assert api.get("/v1/account").status_code == 200
    # 200 s of activity with a 300 s interval: the session was last written at login.
    assert writes == []
    clock.advance(120)
    api.get("/v1/account")
    api.get("/v1/account")
    assert len(writes) == 1
    expires = {int(i["expires_at"]["N"]) for i in items_of(sk="SESSION")}
    assert int(clock.now()) + DAY in expires


def test_expired_session_is_refused_before_ttl_deletes_it(logged_in, api, clock):
    clock.advance(DAY + 1)
    assert len(items_of(sk="SESSION")) == 1  # still in the table: TTL deletes late
    assert api.get("/v1/account").status_code == 401


def test_each_login_issues_a_new_token_stored_only_as_hash(logged_in, api, clock):
    first = api.cookies["__Host-mfa_session"]
    clock.advance(30)
    assert logged_in.login().status_code == 200
    second = api.cookies["__Host-mfa_session"]
    assert first != second
    dump = str(items())
    assert first not in dump and second not in dump
    assert len(second) >= 43  # 256 bits, base64url


def test_list_and_revoke_sessions(logged_in, api, make_client, clock):
    other = logged_in.in_another_browser(make_client())
    clock.advance(30)
    assert other.login().status_code == 200
    listed = api.get("/v1/account/sessions").json["sessions"]
    assert len(listed) == 2
    current = [s for s in listed if s["current"]]
    assert len(current) == 1 and current[0]["kind"] == "web"
    assert {s["user_agent"] for s in listed} == {"pytest-browser/1.0"}
    assert {s["device"] for s in listed} == {"pytest-browser/1.0"}
    assert set(listed[0]) == {"id", "kind", "auth", "created_at", "last_seen_at", "expires_at", "user_agent", "device",
                              "ip", "current"}
    assert {s["auth"] for s in listed} == {"password"}
    other_id = next(s["id"] for s in listed if not s["current"])
    assert api.delete(f"/v1/account/sessions/{other_id}").status_code == 200
    assert other.api.get("/v1/account").status_code == 401
    assert api.get("/v1/account").status_code == 200
    # Revoking it again (a retry whose answer was lost) reaches the same outcome.
    assert api.delete(f"/v1/account/sessions/{other_id}").status_code == 200
    missing = api.delete(f"/v1/account/sessions/{'0' * 32}")
    assert missing.status_code == 404 and missing.json["error"] == "session_not_found"


@pytest.mark.parametrize(("user_agent", "device"), [
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     "Chrome on Linux"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
    ("curl/8.5.0", "curl"),
    ("Firefox/128.0", "Firefox"),
    ("mfa-cli/1.2 (python 3.12)", "mfa-cli/1.2"),
    ("", "unknown"),
])
def test_a_session_names_its_device_in_short(user_agent, device):
    from chalicelib.services import sessions
    assert sessions.device_name(user_agent) == device


def test_cannot_revoke_another_accounts_session(logged_in, api, make_client, clock):
    bob = Person(make_client(), clock, "bob@example.com").onboard()
    bob_session = bob.api.get("/v1/account/sessions").json["sessions"][0]["id"]
    assert api.delete(f"/v1/account/sessions/{bob_session}").status_code == 404
    assert bob.api.get("/v1/account").status_code == 200


def test_logout_ends_the_session_and_clears_the_cookie(logged_in, api):
    token = api.cookies["__Host-mfa_session"]
    response = api.post("/v1/logout")
    assert response.status_code == 200
    assert "__Host-mfa_session" not in api.cookies
    assert api.get("/v1/account", headers={"cookie": f"__Host-mfa_session={token}"}).status_code == 401


@pytest.mark.parametrize("headers, expected", [
    ({"origin": "https://evil.example"}, 403),
    ({"origin": None}, 403),
    ({"x-requested-with": None}, 403),
    ({}, 200),
])
def test_csrf_check_on_cookie_authenticated_unsafe_requests(logged_in, api, headers, expected):
    sent = {"origin": ORIGIN, "x-requested-with": "fetch", "cookie": f"__Host-mfa_session={api.cookies['__Host-mfa_session']}",
            "content-type": "application/json"}
    sent.update(headers)
    sent = {k: v for k, v in sent.items() if v is not None}
    response = api.http.request("POST", "/v1/logout", headers=sent, body=b"{}")
    assert response.status_code == expected
    if expected == 403:
        assert b"csrf_check_failed" in response.body


def test_foreign_origin_cannot_post_to_public_routes(api):
    response = api.post("/v1/login", {"email": "a@example.com", "password": "x" * 12},
                        headers={"origin": "https://evil.example"})
    assert response.status_code == 403 and response.json["error"] == "origin_not_allowed"


def test_cors_headers_only_for_allowed_origins(api):
    allowed = api.get("/openapi.json")
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    foreign = api.get("/openapi.json", headers={"origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    preflight = api.request("OPTIONS", "/v1/login")
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "X-Requested-With" in preflight.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("path, methods", [("/v1/login/abc/verify", {"POST", "OPTIONS"}),
                                           ("/v1/account/methods/abc", {"PATCH", "DELETE", "OPTIONS"})])
def test_preflight_of_a_path_with_parameters(api, path, methods):
    preflight = api.request("OPTIONS", path)
    assert preflight.status_code == 204
    assert {m.strip() for m in preflight.headers["Access-Control-Allow-Methods"].split(",")} == methods


def make_cli_session(account_id: str, email: str) -> str:
    from chalicelib import store
    from chalicelib.records import Client
    from chalicelib.services import sessions

    session = sessions.new_session(account_id, email, sessions.CLI, Client(ip="127.0.0.1", user_agent="mfa-cli"),
                                   mfa_at=0)
    store.transact(store.ops_put_session(session.token_hash, session.record))
    return session.token


def test_cli_session_uses_bearer_lasts_30_days_and_does_not_slide(logged_in, api, clock):
    account = api.get("/v1/account").json
    token = make_cli_session(account["id"], account["email"])
    bearer = {"authorization": f"Bearer {token}"}
    assert api.get("/v1/account", headers=bearer, browser=False).status_code == 200
    # No CSRF header needed with a bearer token.
    clock.advance(29 * DAY)
    assert api.get("/v1/account/sessions", headers=bearer, browser=False).status_code == 200
    clock.advance(DAY)
    assert api.get("/v1/account", headers=bearer, browser=False).status_code == 401


def test_token_kinds_do_not_mix(logged_in, api):
    web_token = api.cookies["__Host-mfa_session"]
    as_bearer = api.get("/v1/account", headers={"authorization": f"Bearer {web_token}"}, browser=False)
    assert as_bearer.status_code == 401
    account = api.get("/v1/account").json
    cli_token = make_cli_session(account["id"], account["email"])
    as_cookie = api.get("/v1/account", headers={"cookie": f"__Host-mfa_session={cli_token}"}, browser=False)
    assert as_cookie.status_code == 401


def test_restricted_session_lasts_at_most_an_hour(person, api, clock):
    person.sign_up()
    person.password_step()
    clock.advance(HOUR - 1)
    assert api.get("/v1/account").status_code == 200
    clock.advance(1)
    assert api.get("/v1/account").status_code == 401


def test_session_records_mfa_time(logged_in, api, clock):
    clock.advance(60)
    logged_in.login(totp_code(logged_in.secret, clock.now()))
    mfa_times = sorted(int(i["mfa_at"]["N"]) for i in items_of(sk="SESSION"))
    assert mfa_times[-1] == int(clock.now())
