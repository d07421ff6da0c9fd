"""Realistic logins against a stage: the password step, then the TOTP verify step, as the web
frontend sends them (Origin, X-Requested-With, the __Host- cookies). Run by `make load`
(load/README.md); Locust prints its live table every 2 s, and this file a summary at the end.

Accounts: `--accounts FILE` (a CSV: email,password,totp_secret[,used_step], for a deployed stage), or
`--create-accounts N`: made on a local stage through the public API (sign-up, the link from
/_dev/mailbox, the password step, TOTP enrolment). A TOTP code is good once per 30 s step and
method (the service takes the previous, current and next step's), so an account logs in about
once a step: a user with no account free waits for the next step (more accounts, more logins
per second).
"""
import csv
import json
import time
import uuid
from collections import Counter
from http.cookies import SimpleCookie

import gevent
import pyotp
import requests
from gevent.pool import Pool
from locust import HttpUser, constant, events, task

STEP = 30
PASSWORD = "load test: correct horse battery staple"


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--accounts", default="",
                        help="CSV of email,password,totp_secret[,used_step] (a deployed stage)")
    parser.add_argument("--create-accounts", type=int, default=0,
                        help="accounts to create on a local stage (it serves /_dev/mailbox)")
    parser.add_argument("--save-accounts", default="", help="write the created accounts here (--accounts' format)")
    parser.add_argument("--origin", default="", help="the Origin header (default: the host)")
    parser.add_argument("--summary-file", default="", help="also write the summary as JSON here")


class Account:
    def __init__(self, email: str, password: str, secret: str, used_step: int = -1):
        self.email, self.password, self.totp = email, password, pyotp.TOTP(secret)
        self.used_step = used_step   # a code of this step or before is spent

    def next_step(self) -> int | None:
        """The earliest step from now on that the service takes and this account has not used
        (never the previous one: a listed account's last code may be of it)."""
        current = int(time.time()) // STEP
        step = max(self.used_step + 1, current)
        return step if step <= current + 1 else None

    def code(self) -> str:
        """A code of the next step, now counted as used."""
        self.used_step = self.next_step()
        return self.totp.at(self.used_step * STEP)


class AccountPool:
    """Accounts not in use; one is taken only when the service would take a code it has not used."""

    def __init__(self):
        self.free: list[Account] = []

    def take(self) -> Account:
        while True:
            for account in self.free:
                if account.next_step() is not None:
                    self.free.remove(account)
                    return account
            gevent.sleep(0.2 if self.free else 1)

    def give_back(self, account: Account) -> None:
        self.free.append(account)


POOL = AccountPool()
OUTCOMES = Counter()   # "login ok" or "<step>: <status> <error code>"
STARTED = {}


class Browser:
    """What the web frontend sends: its Origin and marker header, and the __Host- cookies
    kept by hand (requests sends no Secure cookie over plain http, as browsers do for
    localhost)."""

    def __init__(self, http, base: str, origin: str):
        self.http, self.base, self.origin, self.cookies = http, base, origin, {}

    def call(self, method: str, path: str, body: dict | None = None, **options):
        headers = {"Origin": self.origin, "X-Requested-With": "fetch"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, self.base + path, json=body, headers=headers, **options)
        for header in response.raw.headers.getlist("Set-Cookie") if response.raw else ():
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response


def error_of(response) -> str:
    try:
        code = response.json().get("error", "")
    except ValueError:
        code = ""
    return f"{response.status_code} {code}".strip()


def create_account(base: str, origin: str, email: str) -> Account:
    """Sign up, verify by the mailbox's link, enrol TOTP: as a person does on a local stage."""
    browser = Browser(requests.Session(), base, origin)

    def expect(response, status: int):
        if response.status_code != status:
            raise RuntimeError(f"creating {email}: {response.request.method} {response.url}: "
                               f"{response.status_code} {response.text[:300]}")
        return response

    expect(browser.call("POST", "/v1/accounts", {"email": email, "password": PASSWORD}, timeout=30), 202)
    messages = expect(browser.call("GET", "/_dev/mailbox", timeout=30), 200).json()["messages"]
    link = next(m["links"][0] for m in messages if email in m["to"] and "Verify" in m["subject"])
    token = link.split("token=", 1)[1].split("&", 1)[0]
    expect(browser.call("POST", "/v1/accounts/verify-email", {"token": token}, timeout=30), 200)
    expect(browser.call("POST", "/v1/login", {"email": email, "password": PASSWORD}, timeout=30), 200)
    enrolment = expect(browser.call("POST", "/v1/account/methods/totp", {"label": "load"}, timeout=30), 201).json()
    account = Account(email, PASSWORD, enrolment["secret"])
    expect(browser.call("POST", f"/v1/account/methods/{enrolment['method_id']}/confirm",
                        {"code": account.code()}, timeout=30), 200)
    return account


def create_with_retries(base: str, origin: str, email: str, attempts: int = 3) -> Account:
    """A refusal of the stage's own making (a 503, a conflict of concurrent writes) is tried
    again from the start, under a new address; the third one stops the run."""
    for attempt in range(attempts):
        try:
            return create_account(base, origin, email.replace("@", f"-{attempt}@") if attempt else email)
        except RuntimeError as failed:
            if attempt == attempts - 1:
                raise
            print(f"{failed} (trying again)", flush=True)
            gevent.sleep(1)


def read_accounts(path: str) -> list[Account]:
    with open(path, newline="") as listed:
        return [Account(row["email"], row["password"], row["totp_secret"], int(row.get("used_step") or -1))
                for row in csv.DictReader(listed)]


def write_accounts(path: str, accounts: list[Account]) -> None:
    with open(path, "w", newline="") as listed:
        rows = csv.writer(listed)
        rows.writerow(["email", "password", "totp_secret", "used_step"])
        rows.writerows([a.email, a.password, a.totp.secret, a.used_step] for a in accounts)


@events.init.add_listener
def _accounts(environment, **_):
    """Before the run (and its --run-time) starts: accounts to log in with, or no run."""
    try:
        accounts = _load_accounts(environment)
    except Exception as error:
        raise SystemExit(f"load: {error}") from None
    for account in accounts:
        POOL.give_back(account)
    print(f"{len(accounts)} accounts: at most {len(accounts) / STEP:.1f} logins/s (one per account "
          f"per {STEP} s TOTP step)", flush=True)


@events.test_start.add_listener
def _started(**_):
    STARTED["at"] = time.time()


def _load_accounts(environment) -> list[Account]:
    options = environment.parsed_options
    origin = options.origin or environment.host
    if options.accounts:
        accounts = read_accounts(options.accounts)
    elif options.create_accounts:
        run = uuid.uuid4().hex[:8]
        emails = [f"load-{run}-{i}@example.com" for i in range(options.create_accounts)]
        print(f"creating {len(emails)} accounts on {environment.host} ...", flush=True)
        accounts = Pool(4).map(lambda email: create_with_retries(environment.host, origin, email), emails)
        if options.save_accounts:
            write_accounts(options.save_accounts, accounts)
    else:
        raise ValueError("give --accounts FILE (ACCOUNTS=...) or --create-accounts N (CREATE=...)")
    if not accounts:
        raise ValueError("no accounts")
    return accounts


class LoginUser(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.origin = self.environment.parsed_options.origin or self.host

    @task
    def login(self):
        account = POOL.take()
        try:
            self._login(account)
        finally:
            POOL.give_back(account)

    def _login(self, account: Account) -> None:
        browser = Browser(self.client, "", self.origin)
        with browser.call("POST", "/v1/login", {"email": account.email, "password": account.password},
                          name="password step", catch_response=True) as started:
            if started.status_code != 200:
                return self._failed(started, "password step")
            body = started.json()
            started.success()
        totp = [m["id"] for m in body.get("methods", []) if m["type"] == "totp"]
        if not totp:
            OUTCOMES["password step: no TOTP method"] += 1
            return
        with browser.call("POST", f"/v1/login/{body['login_id']}/verify",
                          {"method_id": totp[0], "code": account.code()},
                          name="verify step", catch_response=True) as verified:
            if verified.status_code != 200:
                return self._failed(verified, "verify step")
            verified.success()
        OUTCOMES["login ok"] += 1

    @staticmethod
    def _failed(response, step: str) -> None:
        error = error_of(response)
        response.failure(error)
        OUTCOMES[f"{step}: {error}"] += 1


def summary(environment) -> dict:
    stats = environment.stats
    elapsed = max(time.time() - STARTED.get("at", time.time()), 1e-9)

    def of(entry) -> dict:
        return {"requests": entry.num_requests, "failures": entry.num_failures,
                "rps": round(entry.num_requests / elapsed, 2),
                **{f"p{p}_ms": entry.get_response_time_percentile(p / 100) for p in (50, 95, 99)}}

    return {
        "seconds": round(elapsed, 1),
        "logins": OUTCOMES["login ok"],
        "logins_per_s": round(OUTCOMES["login ok"] / elapsed, 2),
        "steps": {name: of(entry) for (name, _method), entry in sorted(stats.entries.items())},
        "total": of(stats.total),
        "errors": {outcome: n for outcome, n in sorted(OUTCOMES.items()) if outcome != "login ok"},
    }


@events.quitting.add_listener
def _summary(environment, **_):
    result = summary(environment)
    print(f"\n== load summary: {result['seconds']} s, {result['logins']} logins ({result['logins_per_s']}/s)")
    print(f"{'step':<16}{'requests':>10}{'failures':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, row in [*result["steps"].items(), ("all", result["total"])]:
        print(f"{name:<16}{row['requests']:>10}{row['failures']:>10}{row['rps']:>9}"
              f"{row['p50_ms']:>9.0f}{row['p95_ms']:>9.0f}{row['p99_ms']:>9.0f}")
    print("errors by code: " + (json.dumps(result["errors"]) if result["errors"] else "none"), flush=True)
    if environment.parsed_options.save_accounts:   # again, with the steps the run used
        write_accounts(environment.parsed_options.save_accounts, POOL.free)
    if environment.parsed_options.summary_file:
        with open(environment.parsed_options.summary_file, "w") as out:
            json.dump(result, out, indent=2)
