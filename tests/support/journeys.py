"""A person driven through the API the way a user would: sign up, verify the email, the
password step, enrol TOTP, log in with a second factor, step up; on Chalice's test client
(Person) or on the served API (onboarded_browser)."""
import re

from tests.support.clock import FrozenClock
from tests.support.http import ApiClient, Browser

PASSWORD = "correct horse battery staple"


def mailbox(api: ApiClient, to: str | None = None, subject: str | None = None) -> list[dict]:
    """The dev mailbox's messages, newest first, optionally to an address and by subject."""
    messages = api.get("/_dev/mailbox").json["messages"]
    return [m for m in messages if (to is None or to in m["to"]) and (subject is None or subject in m["subject"])]


def token_in(link: str) -> str:
    """The token of an emailed verification link."""
    return re.search(r"token=([\w-]+)", link).group(1)


def verification_token(api: ApiClient, email: str) -> str:
    return token_in(mailbox(api, email, "Verify your email")[0]["links"][0])


def totp_code(secret: str, at: float) -> str:
    import pyotp

    return pyotp.TOTP(secret).at(at)


class Person:
    """An account driven through the API the way a user would."""

    def __init__(self, api: ApiClient, clock: FrozenClock, email: str = "alice@example.com", password: str = PASSWORD):
        self.api, self.clock, self.email, self.password = api, clock, email, password
        self.secret = None
        self.method_id = None

    def in_another_browser(self, api: ApiClient) -> "Person":
        """The same person (and TOTP app) in another browser, not logged in there."""
        other = Person(api, self.clock, self.email, self.password)
        other.method_id, other.secret = self.method_id, self.secret
        return other

    def sign_up(self, verify: bool = True) -> "Person":
        assert self.api.post("/v1/accounts", {"email": self.email, "password": self.password}).status_code == 202
        if verify:
            token = verification_token(self.api, self.email)
            assert self.api.post("/v1/accounts/verify-email", {"token": token}).status_code == 200
        return self

    def password_step(self):
        return self.api.post("/v1/login", {"email": self.email, "password": self.password})

    def enroll_totp(self) -> "Person":
        started = self.api.post("/v1/account/methods/totp", {"label": "Phone"})
        assert started.status_code == 201, started.json
        self.secret, self.method_id = started.json["secret"], started.json["method_id"]
        confirmed = self.api.post(f"/v1/account/methods/{self.method_id}/confirm",
                                  {"code": totp_code(self.secret, self.clock.now())})
        assert confirmed.status_code == 200, confirmed.json
        return self

    def onboard(self) -> "Person":
        """Sign up, verify, log in, enrol TOTP: ends with a full session and the clock moved
        past the step used at confirmation."""
        self.sign_up()
        assert self.password_step().json["enrollment_required"] is True
        self.enroll_totp()
        self.clock.advance(30)
        return self

    def add_totp(self, label: str = "Tablet") -> tuple[str, str]:
        """Enrol another TOTP method on a full, recently verified session: (method id, secret)."""
        started = self.api.post("/v1/account/methods/totp", {"label": label})
        assert started.status_code == 201, started.json
        confirmed = self.api.post(f"/v1/account/methods/{started.json['method_id']}/confirm",
                                  {"code": totp_code(started.json["secret"], self.clock.now())})
        assert confirmed.status_code == 200, confirmed.json
        return started.json["method_id"], started.json["secret"]

    def step_up(self):
        """Fresh second factor with the TOTP method; moves the clock to an unused step."""
        self.clock.advance(30)
        return self.api.post("/v1/account/step-up",
                             {"method_id": self.method_id, "code": totp_code(self.secret, self.clock.now())})

    def start_login(self) -> str:
        """The password step of a login: its login id."""
        started = self.password_step()
        assert started.status_code == 200, started.json
        return started.json["login_id"]

    def verify(self, login_id: str, code: str | None = None, method_id: str | None = None):
        """The second-factor step of a login: a code (by default the TOTP app's current one)
        for a method (by default the TOTP method)."""
        return self.api.post(f"/v1/login/{login_id}/verify",
                             {"method_id": method_id or self.method_id,
                              "code": code or totp_code(self.secret, self.clock.now())})

    def login(self, code: str | None = None, method_id: str | None = None):
        return self.verify(self.start_login(), code, method_id)


def onboarded_browser(base_url: str, email: str, label: str | None = None) -> tuple[Browser, dict]:
    """On the served API: a new account with TOTP, logged in; (browser, the TOTP enrolment:
    method_id, secret, ...). Codes are of real time."""
    import pyotp

    browser = Browser(base_url)
    assert browser.call("POST", "/v1/accounts", {"email": email, "password": PASSWORD}).status_code == 202
    token = token_in(browser.mailbox(email)[0]["links"][0])
    assert browser.call("POST", "/v1/accounts/verify-email", {"token": token}).status_code == 200
    browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD})
    enrolment = browser.call("POST", "/v1/account/methods/totp", {"label": label} if label else {}).json()
    confirmed = browser.call("POST", f"/v1/account/methods/{enrolment['method_id']}/confirm",
                             {"code": pyotp.TOTP(enrolment["secret"]).now()})
    assert confirmed.status_code == 200, confirmed.text
    return browser, enrolment


def cli_token_over_http(browser: Browser) -> str:
    """On the served API: a CLI login started, approved by `browser` (a full session with a
    fresh second factor) and polled: the CLI session's bearer token."""
    started = browser.call("POST", "/v1/cli/logins", {"client_name": "tests"}).json()
    approved = browser.call("POST", "/v1/cli/logins/approve",
                            {"user_code": started["user_code"], "decision": "approve"})
    assert approved.status_code == 200, approved.text
    issued = browser.call("POST", "/v1/cli/logins/token", {"device_code": started["device_code"]})
    assert issued.status_code == 200, issued.text
    return issued.json()["access_token"]


def assert_ends_ten_days_after(api: ApiClient, clock: FrozenClock, login_time: float) -> None:
    """A web session used every 12 hours lasts until 10 days after its login, not a second more."""
    while clock.now() + 12 * 3600 < login_time + 10 * 24 * 3600:
        clock.advance(12 * 3600)
        assert api.get("/v1/account").status_code == 200
    clock.advance(login_time + 10 * 24 * 3600 - clock.now() - 1)
    assert api.get("/v1/account").status_code == 200
    clock.advance(1)
    assert api.get("/v1/account").status_code == 401
