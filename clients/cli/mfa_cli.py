"""mfa: the reference command-line client of the MFA service.

    mfa [--api URL] login [--no-browser] [--client-name NAME]   log in through the browser (RFC 8628)
    mfa [--api URL] whoami                                      the account this CLI is logged in as
    mfa [--api URL] sessions                                    the account's sessions
    mfa [--api URL] logout                                      end this CLI session and forget its token

The API is --api URL (before the command, as for mfa-authenticator) or $MFA_API_URL (default
http://127.0.0.1:8000). The token is kept in a netrc-style file, $MFA_CREDENTIALS or
~/.config/mfa/netrc, readable by its owner only (0600), like the Heroku CLI's entry in ~/.netrc. Standard library only.
"""
import argparse
import json
import os
import platform
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from pathlib import Path

DEFAULT_API = "http://127.0.0.1:8000"


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message") or body.get("error") or f"HTTP {status}")
        self.status, self.code, self.body = status, body.get("error", ""), body


def call(api: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", "User-Agent": f"mfa-cli/1 ({platform.system()})",
               "X-Client": "cli"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(api.rstrip("/") + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            payload = json.loads(error.read() or b"{}")
        except ValueError:
            payload = {}
        raise ApiError(error.code, payload) from None


# ---------------------------------------------------------------- credentials (netrc-style)

def credentials_path() -> Path:
    return Path(os.environ.get("MFA_CREDENTIALS") or Path.home() / ".config" / "mfa" / "netrc")


def _machine(api: str) -> str:
    return urllib.parse.urlsplit(api).netloc


def _read_entries(path: Path) -> list[dict]:
    if not path.exists():
        return []
    tokens = path.read_text().split()
    entries, current = [], None
    for key, value in zip(tokens[::2], tokens[1::2]):
        if key == "machine":
            current = {"machine": value}
            entries.append(current)
        elif current is not None:
            current[key] = value
    return entries


def _write_entries(path: Path, entries: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = "".join(f"machine {e['machine']}\n  login {e.get('login', 'cli')}\n  password {e['password']}\n"
                   for e in entries)
    # A new 0600 file moved into place: the token is never readable by others, not even
    # briefly, and a symlink planted at the path is replaced, not followed.
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def load_token(api: str) -> str | None:
    for entry in _read_entries(credentials_path()):
        if entry["machine"] == _machine(api):
            return entry.get("password")
    return None


def save_token(api: str, login: str, token: str) -> None:
    path = credentials_path()
    entries = [e for e in _read_entries(path) if e["machine"] != _machine(api)]
    entries.append({"machine": _machine(api), "login": login, "password": token})
    _write_entries(path, entries)


def forget_token(api: str) -> None:
    path = credentials_path()
    entries = [e for e in _read_entries(path) if e["machine"] != _machine(api)]
    if entries:
        _write_entries(path, entries)
    elif path.exists():
        path.unlink()


# ---------------------------------------------------------------- commands

def login(api: str, open_browser: bool, client_name: str, sleep=time.sleep) -> int:
    started = call(api, "POST", "/v1/cli/logins", {"client_name": client_name})
    print(f"To log in, open {started['verification_uri']} and confirm the code {started['user_code']}", flush=True)
    opened = False
    if open_browser:
        try:
            opened = webbrowser.get().open(started["verification_uri_complete"])
        except webbrowser.Error:
            opened = False
    if not opened:
        print(f"(or open {started['verification_uri_complete']})", flush=True)
    interval = started["interval"]
    deadline = time.monotonic() + started["expires_in"]
    while time.monotonic() < deadline:
        sleep(interval)
        try:
            issued = call(api, "POST", "/v1/cli/logins/token", {"device_code": started["device_code"]})
        except ApiError as error:
            if error.code == "authorization_pending":
                continue
            if error.code == "slow_down":
                interval = error.body.get("interval", interval + 5)
                continue
            print(f"Login failed: {error}", file=sys.stderr)
            return 1
        account = call(api, "GET", "/v1/account", token=issued["access_token"])
        save_token(api, account["email"], issued["access_token"])
        print(f"Logged in as {account['email']}.")
        return 0
    print("Login failed: the code expired. Run `mfa login` again.", file=sys.stderr)
    return 1


def _require_token(api: str) -> str:
    token = load_token(api)
    if not token:
        raise SystemExit("Not logged in: run `mfa login`.")
    return token


def whoami(api: str) -> int:
    print(call(api, "GET", "/v1/account", token=_require_token(api))["email"])
    return 0


def sessions(api: str) -> int:
    listed = call(api, "GET", "/v1/account/sessions", token=_require_token(api))["sessions"]
    for s in listed:
        marker = "*" if s["current"] else " "
        print(f"{marker} {s['id']}  {s['kind']:3}  expires {time.strftime('%Y-%m-%d %H:%M', time.gmtime(s['expires_at']))}"
              f" UTC  {s['ip'] or '-'}  {s['user_agent'] or '-'}")
    return 0


def logout(api: str) -> int:
    token = load_token(api)
    if token:
        try:
            call(api, "POST", "/v1/logout", {}, token=token)
        except ApiError as error:
            if error.status != 401:  # an already ended session is fine to forget
                raise
    forget_token(api)
    print("Logged out.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mfa", description="Command-line client of the MFA service.")
    parser.add_argument("--api", metavar="URL", default=os.environ.get("MFA_API_URL", DEFAULT_API),
                        help=f"the API's base URL, before the command (default $MFA_API_URL or {DEFAULT_API})")
    commands = parser.add_subparsers(dest="command", required=True)
    login_parser = commands.add_parser("login", help="log in through the browser")
    login_parser.add_argument("--no-browser", action="store_true", help="only print the URL and code")
    login_parser.add_argument("--client-name", default=f"mfa-cli on {platform.node() or 'this computer'}")
    commands.add_parser("whoami", help="the account this CLI is logged in as")
    commands.add_parser("sessions", help="the account's sessions")
    commands.add_parser("logout", help="end this CLI session and forget its token")
    args = parser.parse_args(argv)
    try:
        if args.command == "login":
            return login(args.api, not args.no_browser, args.client_name)
        return {"whoami": whoami, "sessions": sessions, "logout": logout}[args.command](args.api)
    except ApiError as error:
        if error.status == 401:
            print("Your session has ended: run `mfa login`.", file=sys.stderr)
        else:
            print(f"Error: {error}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"Cannot reach {args.api}: {error.reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
