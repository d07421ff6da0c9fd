"""mfa-authenticator: a reference mobile authenticator app, as a command.

It does what the phone app does, over the same HTTP API:

    mfa-authenticator [--api URL] pair CODE_OR_URI [--name NAME]   pair; prints the phrase to type in the browser
    mfa-authenticator list                                          push requests waiting, with their context
    mfa-authenticator approve CHALLENGE_ID [NUMBER]                 approve: type the number the browser shows
                                                                    (asked for when not given); exits 2 when
                                                                    it was not that number (the request is denied)
    mfa-authenticator deny CHALLENGE_ID                             deny
    mfa-authenticator report CHALLENGE_ID                           "this wasn't me": deny, end that login, pause
                                                                    push for the account and alert the owner
    mfa-authenticator push-token TOKEN                              register a new push token
    mfa-authenticator unpair                                        remove this device from the account

CODE_OR_URI is the pairing code the browser shows, or the mfa-push://pair?api=...&code=... URI
its QR code holds. --api URL (before the command, as for `mfa`; after `pair` is still accepted)
is the API's base URL: needed with a bare code; for the other commands it replaces, for that
run, the API the device was paired with. The device's P-256 private key never leaves the state file
($MFA_AUTHENTICATOR_STATE, default ~/.config/mfa/authenticator.json; written 0600, atomically).
Every request after pairing is signed: ECDSA P-256/SHA-256 over
METHOD, path (from /v1/), timestamp, a fresh nonce and the body's SHA-256.
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

USER_AGENT = "mfa-authenticator/1"


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message") or body.get("error") or f"HTTP {status}")
        self.status, self.code, self.body = status, body.get("error", ""), body


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signature_headers(private_key, method: str, path: str, body: bytes, now: float | None = None,
                      nonce: str | None = None) -> dict:
    """The X-Device-* headers for one request (path from /v1/ on)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or _b64url(secrets.token_bytes(18))
    message = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()
    return {"X-Device-Timestamp": timestamp, "X-Device-Nonce": nonce,
            "X-Device-Signature": _b64url(private_key.sign(message, ec.ECDSA(hashes.SHA256())))}


def public_jwk(private_key) -> dict:
    numbers = private_key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big"))}


def parse_pairing(value: str, api: str | None) -> tuple[str, str]:
    """(api, code) from a pairing URI, or from a bare code and --api."""
    if value.startswith("mfa-push://"):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(value).query)
        return (api or query["api"][0]), query["code"][0]
    if not api:
        raise SystemExit("give --api URL with a bare pairing code (or pass the mfa-push:// URI)")
    return api, value


class Authenticator:
    def __init__(self, state_path: Path):
        self.state_path = state_path
        self.state = json.loads(state_path.read_text()) if state_path.exists() else None

    # ---- state file: 0600 from the start, replaced atomically

    def _save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.state_path.with_name(self.state_path.name + f".{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(self.state, handle)
        os.replace(temporary, self.state_path)

    def _key(self):
        from cryptography.hazmat.primitives import serialization

        return serialization.load_pem_private_key(self.state["private_key"].encode(), password=None)

    def _require_paired(self) -> None:
        if not self.state:
            raise SystemExit("not paired: run `mfa-authenticator pair` first")

    # ---- HTTP

    def _call(self, api: str, method: str, path: str, body: dict | None = None, signed: bool = True) -> dict:
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if signed:
            headers.update(signature_headers(self._key(), method, path, data))
        request = urllib.request.Request(api.rstrip("/") + path, data=data if body is not None else None,
                                         headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                payload = json.loads(error.read() or b"{}")
            except ValueError:
                payload = {}
            raise ApiError(error.code, payload) from None

    def _device_path(self, suffix: str = "") -> str:
        return f"/v1/devices/{self.state['device_id']}{suffix}"

    # ---- what the app does

    def pair(self, pairing: str, api: str | None, name: str, platform: str = "fcm",
             push_token: str | None = None) -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        api, code = parse_pairing(pairing, api)
        key = ec.generate_private_key(ec.SECP256R1())
        # A real app gets its token from APNs/FCM; this one invents a stand-in.
        push_token = push_token or f"reference-{secrets.token_hex(16)}"
        registered = self._call(api, "POST", "/v1/devices", {
            "pairing_code": code, "public_key": public_jwk(key), "push_token": push_token,
            "platform": platform, "device_name": name}, signed=False)
        self.state = {"api": api, "device_id": registered["device_id"], "device_name": name,
                      "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()).decode()}
        self._save()
        return registered["confirmation_phrase"]

    def challenges(self) -> list[dict]:
        self._require_paired()
        return self._call(self.state["api"], "GET", self._device_path("/challenges"))["challenges"]

    def answer(self, challenge_id: str, decision: str, number: int | None = None) -> dict:
        """decision: approve (with the number the person typed), deny, or fraud ("this
        wasn't me"). Sending the same answer again is safe: it gets the same reply."""
        self._require_paired()
        body = {"decision": decision}
        if number is not None:
            body["number"] = number
        return self._call(self.state["api"], "POST", self._device_path(f"/challenges/{challenge_id}"), body)

    def set_push_token(self, push_token: str) -> None:
        self._require_paired()
        self._call(self.state["api"], "PUT", self._device_path("/push-token"), {"push_token": push_token})

    def unpair(self) -> None:
        self._require_paired()
        self._call(self.state["api"], "DELETE", self._device_path())
        self.state_path.unlink()
        self.state = None


def describe(challenge: dict) -> str:
    context = challenge["context"]
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(context["time"]))
    place = f", near {context['location']}" if context.get("location") else ""
    purpose = "log in" if challenge["purpose"] == "login" else "confirm a change"
    return (f"{challenge['challenge_id']}: a request to {purpose}\n"
            f"  {context['browser']} on {context['os']}, IP {context['ip'] or 'unknown'}{place}, at {when}\n"
            f"  if it is yours: approve {challenge['challenge_id']} NUMBER, with the number your browser shows")


def typed_number(value: str | None) -> int:
    """The two-digit number the person typed (asked for on the terminal when not given)."""
    if value is None:
        value = input("Type the number your browser shows: ")
    value = value.strip()
    if len(value) != 2 or not value.isdigit():
        raise SystemExit("type the two-digit number the browser shows")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mfa-authenticator", description=__doc__.splitlines()[0])
    parser.add_argument("--api", metavar="URL", help="the API's base URL: needed to pair with a bare code; for the "
                        "other commands it replaces the API the device was paired with, for this run")
    commands = parser.add_subparsers(dest="command", required=True)
    pair = commands.add_parser("pair", help="pair with a pairing code or mfa-push:// URI")
    pair.add_argument("pairing")
    # Where it used to be, after `pair`: kept working (SUPPRESS leaves the global one alone).
    pair.add_argument("--api", metavar="URL", default=argparse.SUPPRESS, help="the same as the global --api")
    pair.add_argument("--name", default="Reference authenticator")
    pair.add_argument("--platform", choices=["apns", "fcm"], default="fcm")
    pair.add_argument("--push-token")
    commands.add_parser("list", help="push requests waiting for an answer")
    approve = commands.add_parser("approve", help="approve: type the number the browser shows")
    approve.add_argument("challenge_id")
    approve.add_argument("number", nargs="?", help="the two-digit number (asked for when left out)")
    deny = commands.add_parser("deny", help="deny a push request")
    deny.add_argument("challenge_id")
    deny.add_argument("--fraud", action="store_true", help="the same as `report`")
    report = commands.add_parser("report", help="\"this wasn't me\": deny, end the login, pause push, alert the "
                                                "owner")
    report.add_argument("challenge_id")
    token = commands.add_parser("push-token", help="register a new push token")
    token.add_argument("token")
    commands.add_parser("unpair", help="remove this device from the account")
    args = parser.parse_args(argv)

    state = Path(os.environ.get("MFA_AUTHENTICATOR_STATE") or Path.home() / ".config" / "mfa" / "authenticator.json")
    app = Authenticator(state)
    if args.api and app.state and args.command != "pair":
        app.state = {**app.state, "api": args.api}   # for this run only: never written back
    try:
        if args.command == "pair":
            phrase = app.pair(args.pairing, args.api, args.name, args.platform, args.push_token)
            print(f"Paired as device {app.state['device_id']}.\nType this phrase in the browser: {phrase}")
        elif args.command == "list":
            waiting = app.challenges()
            print("\n".join(describe(c) for c in waiting) if waiting else "No push requests are waiting.")
        elif args.command == "approve":
            result = app.answer(args.challenge_id, "approve", typed_number(args.number))
            if result["status"] != "approved":
                print("Refused: that was not the number the browser shows, so the request is denied and the "
                      "account owner is emailed." if result["reason"] == "wrong_number" else
                      "Refused: push is paused on this account after a report, so the request is denied.",
                      file=sys.stderr)
                return 2
            print("Approved.")
        elif args.command == "report" or (args.command == "deny" and args.fraud):
            app.answer(args.challenge_id, "fraud")
            print("Denied and reported: that login is ended, push is paused for a while, and the account owner "
                  "is emailed to change the password.")
        elif args.command == "deny":
            app.answer(args.challenge_id, "deny")
            print("Denied.")
        elif args.command == "push-token":
            app.set_push_token(args.token)
            print("Push token updated.")
        elif args.command == "unpair":
            app.unpair()
            print("Unpaired: this device's push method is removed from the account.")
    except ApiError as error:
        print(f"error: {error} ({error.code or error.status})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
