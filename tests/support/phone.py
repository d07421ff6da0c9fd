"""A paired phone, answering push requests with the reference authenticator's own signing
code (clients/authenticator):

- Phone: in-process, its key in memory, signed calls through Chalice's test client;
  pair_phone and start_push_login drive a Person through pairing and a push login.
- paired_over_http and push_login_over_http: the served API with the reference
  authenticator itself (its state file), which talks to the API only over HTTP.
"""
import itertools
import json
import sys
import time

from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import PROJECT
from tests.support.http import Browser
from tests.support.journeys import PASSWORD, Person, onboarded_browser

sys.path.insert(0, str(PROJECT / "clients" / "authenticator"))
import mfa_authenticator  # noqa: E402,F401 - for the tests that drive it as a program
from mfa_authenticator import ApiError, Authenticator, public_jwk, signature_headers  # noqa: E402,F401


class Phone:
    """A paired mobile app: its key, its device id, and signed calls through the test client."""

    def __init__(self, api, clock, name: str = "Pixel 9"):
        self.api, self.clock, self.name = api, clock, name
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.device_id = None
        self.phrase = None

    def pair(self, pairing_code: str, **overrides):
        body = {"pairing_code": pairing_code, "public_key": public_jwk(self.key), "push_token": "token-" + self.name,
                "platform": "fcm", "device_name": self.name, **overrides}
        response = self.api.post("/v1/devices", body, browser=False)
        if response.status_code == 201:
            self.device_id, self.phrase = response.json["device_id"], response.json["confirmation_phrase"]
        return response

    def signed(self, method: str, path: str, body=None, headers: dict | None = None, **sign):
        data = json.dumps(body).encode() if body is not None else b""
        sent = signature_headers(self.key, method, path, data, now=sign.pop("now", self.clock.now()), **sign)
        sent.update(headers or {})
        return self.api.request(method, path, raw=data, headers=sent, browser=False)

    def challenges(self):
        return self.signed("GET", f"/v1/devices/{self.device_id}/challenges")

    def answer(self, challenge_id: str, decision: str, number: int | None = None, report_fraud: bool = False):
        body = {"decision": decision, "report_fraud": report_fraud}
        if number is not None:
            body["number"] = number
        return self.signed("POST", f"/v1/devices/{self.device_id}/challenges/{challenge_id}", body)


def pair_phone(person: Person, phone: Phone) -> dict:
    """Pair `phone` from the person's session and confirm its phrase: the push method."""
    started = person.api.post("/v1/account/methods/push/pairings", {"label": "My phone"})
    assert started.status_code == 201, started.json
    assert phone.pair(started.json["pairing_code"]).status_code == 201
    confirmed = person.api.post(f"/v1/account/methods/push/pairings/{started.json['pairing_id']}/confirm",
                                {"phrase": phone.phrase})
    assert confirmed.status_code == 200, confirmed.json
    return confirmed.json["method"]


def start_push_login(person: Person) -> tuple[str, dict]:
    """The password step, then a push to the person's `push_method`: (login id, the push)."""
    login_id = person.password_step().json["login_id"]
    pushed = person.api.post(f"/v1/login/{login_id}/push", {"method_id": person.push_method["id"]})
    assert pushed.status_code == 201, pushed.json
    return login_id, pushed.json


_accounts = itertools.count()


def paired_over_http(base_url: str, tmp_path) -> tuple[Browser, str, Authenticator, str]:
    """On the served API: a new account with TOTP and the reference authenticator paired,
    logged out; (browser, email, the authenticator, the push method's id)."""
    email = f"push-{next(_accounts)}-{time.time_ns()}@example.com"
    browser, _ = onboarded_browser(base_url, email)
    pairing = browser.call("POST", "/v1/account/methods/push/pairings", {"label": "Phone"}).json()
    app = Authenticator(tmp_path / f"{email}.json")
    phrase = app.pair(pairing["pairing_code"], base_url, "Reference phone")
    confirmed = browser.call("POST", f"/v1/account/methods/push/pairings/{pairing['pairing_id']}/confirm",
                             {"phrase": phrase})
    assert confirmed.status_code == 200, confirmed.text
    browser.call("POST", "/v1/logout")
    return browser, email, app, confirmed.json()["method"]["id"]


def push_login_over_http(browser: Browser, email: str, method_id: str) -> tuple[str, dict]:
    login_id = browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}).json()["login_id"]
    pushed = browser.call("POST", f"/v1/login/{login_id}/push", {"method_id": method_id})
    assert pushed.status_code == 201, pushed.text
    return login_id, pushed.json()
