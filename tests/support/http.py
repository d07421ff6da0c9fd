"""API clients that send what the web frontend sends (Origin, X-Requested-With, the cookies
the API set), one for each way the tests reach the API:

- ApiClient: Chalice's test client, in-process; a response's body is parsed into `.json`.
- Browser: the served API (`make run`'s program) over HTTP with requests.
"""
import json
from http.cookies import SimpleCookie

ORIGIN = "http://localhost:8000"


def set_cookies(response) -> list[str]:
    """The Set-Cookie headers of a Chalice test client response."""
    value = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
    if not value:
        return []
    return value if isinstance(value, list) else [value]


def remember(cookies: dict[str, str], header: str) -> None:
    """Keep the cookie a Set-Cookie header sets, or drop it when the header clears it."""
    cookie = SimpleCookie()
    cookie.load(header)
    for name, morsel in cookie.items():
        if morsel.value and morsel["max-age"] != "0":
            cookies[name] = morsel.value
        else:
            cookies.pop(name, None)


class ApiClient:
    """Chalice's test client plus a cookie jar and the headers a browser frontend sends."""

    def __init__(self, http, origin: str | None = ORIGIN):
        self.http = http
        self.origin = origin
        self.cookies: dict[str, str] = {}
        self.last = None

    def request(self, method: str, path: str, body=None, headers: dict | None = None, raw: bytes | None = None,
                browser: bool = True):
        sent = {"content-type": "application/json", "user-agent": "pytest-browser/1.0"}
        if browser and self.origin:
            sent["origin"] = self.origin
            sent["x-requested-with"] = "fetch"
        if self.cookies and browser:
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = self.http.request(method, path, headers=sent, body=payload)
        for header in set_cookies(response):
            remember(self.cookies, header)
        is_json = "json" in str(response.headers.get("Content-Type", ""))
        response.json = json.loads(response.body) if response.body and is_json else None
        self.last = response
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body if body is not None else {}, **kw)


class Browser:
    """A requests session that sends what the web frontend sends. requests will not send
    a Secure cookie over plain http (browsers do, for localhost), so cookies are kept here."""

    def __init__(self, base_url):
        import requests

        self.base = base_url
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}

    @property
    def token(self) -> str | None:
        return self.cookies.get("__Host-mfa_session")

    def call(self, method, path, body=None):
        headers = {"Origin": ORIGIN, "X-Requested-With": "fetch"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, self.base + path, json=body, headers=headers, timeout=10)
        for cookie in response.raw.headers.getlist("Set-Cookie"):
            name = cookie.partition("=")[0]
            assert "HttpOnly" in cookie and "Secure" in cookie and "Path=/" in cookie and name.startswith("__Host-")
            remember(self.cookies, cookie)
        return response

    def mailbox(self, to: str, subject: str | None = None) -> list[dict]:
        """The dev mailbox's messages to `to`, newest first, optionally by subject."""
        messages = self.call("GET", "/_dev/mailbox").json()["messages"]
        return [m for m in messages if to in m["to"] and (subject is None or subject in m["subject"])]
