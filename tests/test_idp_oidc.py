"""OpenID Connect (chalicelib/idp/oidc.py) against a real OpenID Provider, the npm package
oidc-provider (tests/support/oidc_idp.py): authorization URL, login at the provider with the
amr/acr the test chooses, code exchange with PKCE, ID token validation, and the MFA decision;
then each way a token must be refused. Tokens come from the provider's token endpoint; only the
algorithm and audience edge cases sign their own. One login goes through Chromium."""
import base64
import contextlib
import http.server
import json
import os
import shutil
import threading
import time
import urllib.parse
from dataclasses import dataclass

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, import_key

from chalicelib.clock import random_token
from chalicelib.idp import IdpRefused, oidc
from localdev.embedded_aws import free_port
from tests.support.oidc_idp import Client, oidc_provider, signing_key
from tests.test_browser import CHROMIUM, CHROMIUM_FLAGS

RP = Client("mfa-service", "rp-secret-0123456789abcdef", "http://127.0.0.1:9/sso/oidc/callback")
OTHER_APP = Client("another-app", "other-secret-0123456789abcdef", "http://127.0.0.1:9/other/callback")
# Chromium refuses port 9 (an "unsafe port"): this client's redirect is answered by client_page().
BROWSER_RP = Client("browser-rp", "browser-secret-0123456789abcdef", f"http://127.0.0.1:{free_port()}/callback")
MFA = {"amr_values": oidc.DEFAULT_AMR_VALUES, "acr_values": oidc.DEFAULT_ACR_VALUES}


@pytest.fixture(scope="module")
def idp():
    with oidc_provider([RP, OTHER_APP, BROWSER_RP]) as provider:
        yield provider


@pytest.fixture(autouse=True)
def no_cached_keys():
    oidc.forget_cached_keys()
    yield
    oidc.forget_cached_keys()


@dataclass
class Login:
    url: str  # the authorization URL the browser was sent to
    code: str
    nonce: str
    verifier: str
    client: Client


def log_in(idp, email="ada@example.com", amr=("pwd", "mfa"), acr=None, *, client=RP, acr_values=(),
           force=False, tamper=lambda params: None) -> Login:
    state, nonce, verifier = random_token(), random_token(), random_token()
    url = oidc.authorization_url(idp.issuer, client_id=client.client_id, redirect_uri=client.redirect_uri,
                                 scopes=["email"], state=state, nonce=nonce, code_verifier=verifier,
                                 acr_values=list(acr_values), force_reauthentication=force)
    parts = urllib.parse.urlsplit(url)
    params = dict(urllib.parse.parse_qsl(parts.query))
    tamper(params)
    url = parts._replace(query=urllib.parse.urlencode(params)).geturl()
    back = idp.log_in(url, email, amr=amr, acr=acr)
    assert back.startswith(client.redirect_uri + "?"), back
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
    assert answer["state"] == state
    return Login(url, answer["code"], nonce, verifier, client)


def id_token(idp, login: Login, verifier: str | None = None) -> str:
    return oidc.exchange_code(idp.issuer, client_id=login.client.client_id, client_secret=login.client.client_secret,
                              code=login.code, redirect_uri=login.client.redirect_uri,
                              code_verifier=verifier or login.verifier)


def validate(idp, token: str, nonce: str, **checks) -> dict:
    return oidc.validate_id_token(token, issuer=idp.issuer, client_id=RP.client_id, nonce=nonce,
                                  now=checks.pop("now", int(time.time())), **checks)


def refusal(call, detail: str = "") -> str:
    with pytest.raises(IdpRefused) as refused:
        call()
    assert detail in refused.value.detail
    return refused.value.reason


def hand_made(header: dict, claims: dict) -> str:
    """A JWT's header and payload, and the dot before a signature (none here)."""
    return ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
                    for part in (header, claims)) + "."


def query(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


# ---------------------------------------------------------------- the whole path

def test_a_login_with_mfa_is_verified(idp):
    login = log_in(idp, "ada@example.com", amr=("pwd", "mfa"))
    params = query(login.url)
    assert params["response_type"] == "code" and params["code_challenge_method"] == "S256"
    assert params["code_challenge"] == oidc.code_challenge(login.verifier)
    assert params["scope"] == "openid email" and "prompt" not in params and "claims" not in params

    claims = validate(idp, id_token(idp, login), login.nonce)
    assert claims["email"] == "ada@example.com" and claims["email_verified"] is True
    assert claims["amr"] == ["pwd", "mfa"]
    assert oidc.mfa_verified(claims, **MFA)
    # The same person gets the same subject at the next login.
    again = log_in(idp, "ada@example.com")
    assert validate(idp, id_token(idp, again), again.nonce)["sub"] == claims["sub"]


def test_a_password_only_login_is_not_mfa(idp):
    login = log_in(idp, amr=("pwd",), acr_values=oidc.DEFAULT_ACR_VALUES)
    claims = validate(idp, id_token(idp, login), login.nonce)
    assert claims["amr"] == ["pwd"]
    assert not oidc.mfa_verified(claims, **MFA)


def test_the_refeds_mfa_acr_is_asked_for_and_verified(idp):
    login = log_in(idp, amr=(), acr="https://refeds.org/profile/mfa", acr_values=oidc.DEFAULT_ACR_VALUES)
    params = query(login.url)
    assert params["acr_values"] == "https://refeds.org/profile/mfa"
    assert json.loads(params["claims"]) == {
        "id_token": {"acr": {"essential": True, "values": ["https://refeds.org/profile/mfa"]}, "amr": None}}
    claims = validate(idp, id_token(idp, login), login.nonce)
    assert claims["acr"] == "https://refeds.org/profile/mfa" and "amr" not in claims
    assert oidc.mfa_verified(claims, **MFA)


def test_other_configured_amr_values_count():
    assert oidc.mfa_verified({"amr": ["hwk"]}, amr_values=["hwk", "otp"], acr_values=[])
    assert not oidc.mfa_verified({"amr": ["hwk"]}, **MFA)
    assert not oidc.mfa_verified({"amr": "mfa"}, **MFA)  # amr is a list, never a string
    assert not oidc.mfa_verified({"acr": ["https://refeds.org/profile/mfa"]}, **MFA)


# ---------------------------------------------------------------- refusals

def test_a_token_for_another_nonce_is_refused(idp):
    login = log_in(idp, tamper=lambda params: params.update(nonce="an-attacker-s-nonce"))
    assert refusal(lambda: validate(idp, id_token(idp, login), login.nonce)) == "wrong_nonce"


def test_a_token_for_another_client_is_refused(idp):
    login = log_in(idp, client=OTHER_APP)
    assert refusal(lambda: validate(idp, id_token(idp, login), login.nonce)) == "wrong_audience"


@pytest.mark.parametrize("audiences, azp, reason", [
    (["mfa-service", "another-app"], None, "wrong_audience"),
    (["mfa-service", "another-app"], "another-app", "wrong_audience"),
    ("mfa-service", "another-app", "wrong_audience"),
    (["mfa-service", "another-app"], "mfa-service", None),
])
def test_several_audiences_need_us_as_the_authorized_party(idp, audiences, azp, reason):
    now = int(time.time())
    claims = {"iss": idp.issuer, "sub": "s", "aud": audiences, "exp": now + 60, "iat": now, "nonce": "n",
              **({"azp": azp} if azp else {})}
    key = idp.keys[0]
    token = jwt.encode({"alg": "RS256", "kid": key["kid"]}, claims, import_key(key))
    if reason:
        assert refusal(lambda: validate(idp, token, "n")) == reason
    else:
        assert validate(idp, token, "n")["azp"] == RP.client_id


def test_an_expired_or_future_token_is_refused(idp):
    login = log_in(idp)
    token = id_token(idp, login)
    claims = validate(idp, token, login.nonce)
    assert refusal(lambda: validate(idp, token, login.nonce, now=claims["exp"] + 61)) == "expired"
    assert validate(idp, token, login.nonce, now=claims["exp"] + 59)  # within the leeway
    assert refusal(lambda: validate(idp, token, login.nonce, now=claims["iat"] - 61)) == "issued_in_future"


def test_a_token_signed_by_another_key_under_the_same_kid_is_refused(idp):
    with idp.impostor_key():
        login = log_in(idp)
        token = id_token(idp, login)
    assert refusal(lambda: validate(idp, token, login.nonce), "signature does not verify") == "invalid_token"


def test_a_key_rotation_is_fetched_once_and_accepted(idp, monkeypatch):
    fetched = []
    real_request = oidc._request_json
    monkeypatch.setattr(oidc, "_request_json", lambda url, *a, **k: fetched.append(url) or real_request(url, *a, **k))
    jwks_uri = f"{idp.issuer}/jwks"

    before = log_in(idp)
    validate(idp, id_token(idp, before), before.nonce)
    assert fetched.count(jwks_uri) == 1

    new_kid = idp.rotate_keys()
    after = log_in(idp)
    token = id_token(idp, after)
    assert jwt.decode(token, import_key(idp.keys[0])).header["kid"] == new_kid
    assert validate(idp, token, after.nonce)["sub"]
    assert fetched.count(jwks_uri) == 2

    # Another unknown kid within a minute: refused without asking the IdP again.
    stranger = signing_key()
    now = int(time.time())
    forged = jwt.encode({"alg": "RS256", "kid": stranger["kid"]}, {"iss": idp.issuer, "sub": "s", "aud": RP.client_id,
                        "exp": now + 60, "iat": now, "nonce": "n"}, import_key(stranger))
    assert refusal(lambda: validate(idp, forged, "n"), "no signing key") == "invalid_token"
    assert fetched.count(jwks_uri) == 2


def test_forced_reauthentication_is_asked_for_and_checked(idp):
    started = int(time.time())
    login = log_in(idp, force=True)
    params = query(login.url)
    assert params["prompt"] == "login" and params["max_age"] == "0"
    token = id_token(idp, login)
    claims = validate(idp, token, login.nonce, authenticated_since=started)
    assert claims["auth_time"] >= started - 1
    late = claims["auth_time"] + 120
    assert refusal(lambda: validate(idp, token, login.nonce, authenticated_since=late)) == "stale_authentication"

    ordinary = log_in(idp)  # no max_age: the provider adds no auth_time, so nothing proves a new login
    ordinary_token = id_token(idp, ordinary)
    assert "auth_time" not in validate(idp, ordinary_token, ordinary.nonce)
    assert refusal(lambda: validate(idp, ordinary_token, ordinary.nonce,
                                    authenticated_since=started)) == "stale_authentication"


def test_the_code_needs_its_pkce_verifier_and_is_single_use(idp):
    login = log_in(idp)
    with pytest.raises(IdpRefused) as refused:
        id_token(idp, login, verifier=random_token())
    assert refused.value.reason == "token_exchange_failed" and "invalid_grant" in refused.value.detail
    assert validate(idp, id_token(idp, login), login.nonce)
    assert refusal(lambda: id_token(idp, login)) == "token_exchange_failed"  # a code is good once


def test_a_wrong_client_secret_is_refused(idp):
    login = log_in(idp)
    login.client = Client(RP.client_id, "not-the-secret-0123456789", RP.redirect_uri)
    assert refusal(lambda: id_token(idp, login)) == "token_exchange_failed"


def test_discovery_naming_another_issuer_is_refused(idp):
    # The same provider under another name: its discovery names http://127.0.0.1:PORT.
    impostor = idp.issuer.replace("127.0.0.1", "localhost")
    assert refusal(lambda: oidc.authorization_url(
        impostor, client_id=RP.client_id, redirect_uri=RP.redirect_uri, scopes=[], state="s", nonce="n",
        code_verifier=random_token(), acr_values=[], force_reauthentication=False)) == "discovery_failed"
    login = log_in(idp)
    token = id_token(idp, login)
    assert refusal(lambda: oidc.validate_id_token(token, issuer=impostor, client_id=RP.client_id, nonce=login.nonce,
                                                  now=int(time.time()))) == "discovery_failed"


def test_unsigned_and_symmetric_tokens_are_refused(idp):
    now = int(time.time())
    kid = idp.keys[0]["kid"]
    claims = {"iss": idp.issuer, "sub": "s", "aud": RP.client_id, "exp": now + 60, "iat": now, "nonce": "n"}
    # HS256 keyed with the client secret: anyone who knows the secret could mint logins.
    hs256 = jwt.encode({"alg": "HS256", "kid": kid}, claims, OctKey.import_key(RP.client_secret))
    unsigned = hand_made({"alg": "none", "kid": kid}, claims)
    for token in (hs256, unsigned, "not-a-token"):
        assert refusal(lambda token=token: validate(idp, token, "n"), "not") == "invalid_token"


@contextlib.contextmanager
def client_page(redirect_uri: str):
    """Something at the client's redirect URI for the browser to land on (Playwright's routes do
    not see a redirect's target)."""
    class Landing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"back at the client")

        def log_message(self, *args):
            pass

    parts = urllib.parse.urlsplit(redirect_uri)
    server = http.server.ThreadingHTTPServer((parts.hostname, parts.port), Landing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def test_chromium_goes_through_the_redirect_round_trip(idp):
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt")
        pytest.skip("NOT TESTED IN A BROWSER: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    state, nonce, verifier = random_token(), random_token(), random_token()
    url = oidc.authorization_url(idp.issuer, client_id=BROWSER_RP.client_id, redirect_uri=BROWSER_RP.redirect_uri,
                                 scopes=["email"], state=state, nonce=nonce, code_verifier=verifier,
                                 acr_values=oidc.DEFAULT_ACR_VALUES, force_reauthentication=False)
    with client_page(BROWSER_RP.redirect_uri), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.fill("input[name=email]", "grace@example.com")
            page.check("input[name=amr][value=pwd]")
            page.check("input[name=amr][value=hwk]")
            with page.expect_navigation(url=lambda url: url.startswith(BROWSER_RP.redirect_uri + "?")):
                page.click("button[type=submit]")
            answer = query(page.url)
        finally:
            browser.close()
    assert answer["state"] == state
    token = oidc.exchange_code(idp.issuer, client_id=BROWSER_RP.client_id, client_secret=BROWSER_RP.client_secret,
                               code=answer["code"], redirect_uri=BROWSER_RP.redirect_uri, code_verifier=verifier)
    claims = oidc.validate_id_token(token, issuer=idp.issuer, client_id=BROWSER_RP.client_id, nonce=nonce,
                                    now=int(time.time()))
    assert claims["email"] == "grace@example.com" and claims["amr"] == ["pwd", "hwk"]
    assert oidc.mfa_verified(claims, amr_values=["mfa", "hwk"], acr_values=oidc.DEFAULT_ACR_VALUES)


def test_a_key_serves_only_its_algorithm_and_a_kid_is_a_string(idp):
    now = int(time.time())
    key = idp.keys[0]  # published with alg RS256
    claims = {"iss": idp.issuer, "sub": "s", "aud": RP.client_id, "exp": now + 60, "iat": now, "nonce": "n"}
    same_key_any_alg = import_key({name: value for name, value in key.items() if name != "alg"})
    ps256 = jwt.encode({"alg": "PS256", "kid": key["kid"]}, claims, same_key_any_alg, algorithms=["PS256"])
    assert refusal(lambda: validate(idp, ps256, "n"), "is for 'RS256'") == "invalid_token"
    odd_kid = hand_made({"alg": "RS256", "kid": [key["kid"]]}, claims) + ps256.rsplit(".", 1)[1]
    assert refusal(lambda: validate(idp, odd_kid, "n"), "kid") == "invalid_token"


def test_client_secret_post_where_the_issuer_has_no_basic(idp, monkeypatch):
    sent = []
    real_request = oidc._request_json

    def request(url, form=None, headers=None):
        answer = real_request(url, form, headers)
        if url.endswith("/.well-known/openid-configuration"):
            answer["token_endpoint_auth_methods_supported"] = ["client_secret_post", "private_key_jwt"]
        sent.append((form, headers or {}))
        return answer

    monkeypatch.setattr(oidc, "_request_json", request)
    login = log_in(idp)
    assert validate(idp, id_token(idp, login), login.nonce)
    [(form, headers)] = [(form, headers) for form, headers in sent if form is not None]
    assert form["client_id"] == RP.client_id and form["client_secret"] == RP.client_secret
    assert "Authorization" not in headers


# ---------------------------------------------------------------- configuration

@pytest.mark.parametrize("url, normalised", [
    ("https://Login.Example.com", "https://login.example.com"),
    ("https://example.com/tenant/v2.0/", "https://example.com/tenant/v2.0/"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://localhost:9000/realms/a", "http://localhost:9000/realms/a"),
    ("http://[::1]:9000", "http://[::1]:9000"),
])
def test_issuer_urls(url, normalised):
    assert oidc.check_issuer_url(url) == normalised


@pytest.mark.parametrize("url", ["http://example.com", "https://example.com?tenant=a", "https://example.com#x",
                                 "https://user:pw@example.com", "ftp://example.com", "example.com", "https://"])
def test_insecure_or_odd_issuer_urls_are_refused(url):
    with pytest.raises(ValueError, match="https://"):
        oidc.check_issuer_url(url)


def test_a_code_verifier_is_43_to_128_unreserved_characters():
    assert oidc.code_challenge("a" * 43) != oidc.code_challenge("a" * 44)
    for verifier in ("a" * 42, "a" * 129, "a" * 42 + "+"):
        with pytest.raises(ValueError):
            oidc.code_challenge(verifier)
