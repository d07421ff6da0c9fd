"""Counts AWS calls per step of every flow (TOTP, security key, push, SAML single sign-on),
in-process moto; prints a table. `make bench` (bench/run.py) measures the login's steps in
more detail.

    .venv/bin/python bench/round_trips.py
"""
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from localdev import embedded_aws  # noqa: E402

STAGE = json.loads((PROJECT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]


def main() -> None:
    # LOCAL_AWS=embedded: moto in this process, the local AWS the dev-only features need.
    os.environ.update({**embedded_aws.LOCAL_CREDENTIALS, **STAGE, "LOCAL_AWS": "embedded"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import pyotp
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib import aws, clock

    calls: Counter = Counter()

    def count(service):
        def hook(model, **kwargs):
            calls[f"{service}:{model.name}"] += 1
        return hook

    rows = []
    rows_response = []
    embedded_aws.adapt_moto()
    with mock_aws():
        push_settings = embedded_aws.provision(STAGE["TABLE_NAME"], STAGE["KMS_KEY_ID"], STAGE["MAIL_FROM"])
        for name, value in push_settings.items():
            os.environ[name] = value
        for service in ("dynamodb", "kms", "ses", "sns"):
            aws.client(service).meta.events.register("before-call", count(service))
        http = Client(app, stage_name="local", project_dir=str(PROJECT)).http
        headers = {"content-type": "application/json", "origin": "http://localhost:8000", "x-requested-with": "x"}

        login_browser = {}   # the login cookie of the latest password step, sent along as a browser does

        def step(name, method, path, body=None, cookie=None):
            calls.clear()
            jar = {**login_browser, **({"__Host-mfa_session": cookie} if cookie else {})}
            sent = dict(headers, **({"cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}))
            response = http.request(method, path, headers=sent, body=json.dumps(body or {}).encode())
            set_cookies = response.headers.get("Set-Cookie") or []
            for header in set_cookies if isinstance(set_cookies, list) else [set_cookies]:
                if header.startswith("__Host-mfa_login="):
                    login_browser["__Host-mfa_login"] = header.split(";")[0].split("=", 1)[1]
            dynamo = sum(v for k, v in calls.items() if k.startswith("dynamodb:"))
            rows.append((name, response.status_code, dynamo, ", ".join(f"{k}×{v}" for k, v in sorted(calls.items()))))
            rows_response.append(response)
            return response

        def cookie_of(response):
            headers = response.headers["Set-Cookie"]
            for header in headers if isinstance(headers, list) else [headers]:
                if header.startswith("__Host-mfa_session="):
                    return header.split(";")[0].split("=", 1)[1]
            raise AssertionError("no session cookie")

        email, password = "bench@example.com", "correct horse battery staple"
        step("sign up", "POST", "/v1/accounts", {"email": email, "password": password})
        from localdev import mailbox
        token = mailbox.messages()[0]["links"][0].split("token=")[1]
        step("verify email", "POST", "/v1/accounts/verify-email", {"token": token})
        restricted = cookie_of(step("password step (no method yet)", "POST", "/v1/login", {"email": email, "password": password}))
        enrolment = json.loads(step("begin TOTP enrolment", "POST", "/v1/account/methods/totp", {}, restricted).body)
        secret = enrolment["secret"]
        confirmed = step("confirm TOTP", "POST", f"/v1/account/methods/{enrolment['method_id']}/confirm",
                         {"code": pyotp.TOTP(secret).now()}, restricted)
        cookie = cookie_of(confirmed)
        started = json.loads(step("password step", "POST", "/v1/login", {"email": email, "password": password}).body)
        verified = step("second factor + new session", "POST", f"/v1/login/{started['login_id']}/verify",
                        {"method_id": enrolment["method_id"], "code": pyotp.TOTP(secret).at(time.time() + 30)})
        cookie = cookie_of(verified)
        step("GET sessions: auth (1 read) + its own query", "GET", "/v1/account/sessions", cookie=cookie)

        # A security key (answered by the tests' fido2-built authenticator), then a login with it.
        from tests.support.soft_authenticator import SoftAuthenticator

        key = SoftAuthenticator()
        options = json.loads(step("WebAuthn creation options", "POST", "/v1/account/methods/webauthn/options",
                                  {"type": "security_key"}, cookie).body)
        step("register security key", "POST", "/v1/account/methods/webauthn",
             {"credential": key.create(options["public_key"])}, cookie)
        started = json.loads(step("password step", "POST", "/v1/login", {"email": email, "password": password}).body)
        options = json.loads(step("WebAuthn request options", "POST",
                                  f"/v1/login/{started['login_id']}/webauthn/options").body)
        step("security key + new session", "POST", f"/v1/login/{started['login_id']}/verify",
             {"credential": key.get(options["public_key"])})

        # A phone paired for push (the reference authenticator's signing), then a push login.
        cookie = cookie_of(rows_response[-1])
        sys.path.insert(0, str(PROJECT / "clients" / "authenticator"))
        from cryptography.hazmat.primitives.asymmetric import ec
        from mfa_authenticator import public_jwk, signature_headers

        phone = ec.generate_private_key(ec.SECP256R1())
        pairing = json.loads(step("start push pairing", "POST", "/v1/account/methods/push/pairings", {}, cookie).body)
        device = json.loads(step("app registers (pairing code)", "POST", "/v1/devices", {
            "pairing_code": pairing["pairing_code"], "public_key": public_jwk(phone), "push_token": "t",
            "platform": "fcm", "device_name": "bench"}).body)
        step("confirm pairing phrase", "POST", f"/v1/account/methods/push/pairings/{pairing['pairing_id']}/confirm",
             {"phrase": device["confirmation_phrase"]}, cookie)
        started = json.loads(step("password step", "POST", "/v1/login", {"email": email, "password": password}).body)
        push_method = next(m for m in started["methods"] if m["type"] == "push")
        pushed = json.loads(step("push request (+ SNS publish)", "POST", f"/v1/login/{started['login_id']}/push",
                                 {"method_id": push_method["id"]}).body)
        path = f"/v1/devices/{device['device_id']}/challenges/{pushed['challenge_id']}"
        answer = json.dumps({"decision": "approve", "number": pushed["number"]}).encode()
        calls.clear()
        signed = http.request("POST", path, body=answer, headers={"content-type": "application/json",
                                                                 **signature_headers(phone, "POST", path, answer)})
        rows.append(("app approves (signed)", signed.status_code,
                     sum(v for k, v in calls.items() if k.startswith("dynamodb:")),
                     ", ".join(f"{k}×{v}" for k, v in sorted(calls.items()))))
        step("browser polls the status", "GET", f"/v1/login/{started['login_id']}")
        step("approved push + new session", "POST", f"/v1/login/{started['login_id']}/verify",
             {"challenge_id": pushed["challenge_id"]})

        # Single sign-on through a SAML identity provider (the tests' pysaml2 IdP): the start,
        # then the IdP's answer posted to the ACS, which issues the session (the IdP made the
        # account's first login: the account is created just in time in the same transaction).
        from chalicelib.services.sso import connections
        from chalicelib.services.sso import login as sso
        from tests.support.saml_idp import saml_idp

        connection_id = "5" * 32
        connections.random_id = lambda: connection_id
        with saml_idp(sso.sp_entity_id(connection_id), f"{STAGE['PUBLIC_BASE_URL']}/v1/sso/{connection_id}/saml/acs") as idp:
            connections.add_saml(name="bench", domains=["sso.example.com"], metadata_xml=idp.metadata_xml,
                                 operator_arn="bench")
            started = step("SSO start", "POST", "/v1/sso/start", {"email": "ada@sso.example.com"})
            binding = next(h for h in started.headers["Set-Cookie"] if h.startswith("__Host-mfa_sso="))
            _, answer, _ = idp.log_in(json.loads(started.body)["redirect_url"], "ada@sso.example.com")
            import urllib.parse
            calls.clear()
            landed = http.request("POST", f"/v1/sso/{connection_id}/saml/acs",
                                  body=urllib.parse.urlencode({"SAMLResponse": answer}).encode(),
                                  headers={"content-type": "application/x-www-form-urlencoded",
                                           "cookie": binding.split(";")[0]})
            rows.append(("SAML answer + new session (+ new account)", landed.status_code,
                         sum(v for k, v in calls.items() if k.startswith("dynamodb:")),
                         ", ".join(f"{k}×{v}" for k, v in sorted(calls.items()))))

        class Later:
            def now(self):
                return time.time() + 600
        clock.use_clock(Later())
        step("same, after the touch interval (+1 write)", "GET", "/v1/account/sessions", cookie=cookie)
        step("same, again within the interval", "GET", "/v1/account/sessions", cookie=cookie)
        clock.use_clock(None)

    print("(the password step's counting transaction runs beside its read: 3 calls, 2 round trips of waiting)")
    print(f"{'step':50} {'status':>6} {'DynamoDB':>8}  calls")
    for name, status, dynamo, detail in rows:
        print(f"{name:50} {status:>6} {dynamo:>8}  {detail}")


if __name__ == "__main__":
    main()
