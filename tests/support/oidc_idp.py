"""A real OpenID Provider for tests: the npm package oidc-provider (installed under build/npm
by `make servers`) run by tests/identity_providers/oidc_provider.mjs on 127.0.0.1, with a
login form whose amr/acr the test chooses and controls over its signing keys. Missing node or
the package fails the run in CI and skips, loudly, elsewhere."""
import contextlib
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass

import pytest
import requests

from tests.support import PROJECT
from tests.support.servers import stop, wait_until_answering

SCRIPT = PROJECT / "tests" / "identity_providers" / "oidc_provider.mjs"


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str


def require_oidc_provider():
    """The installed package's entry point; in CI a missing install fails the run."""
    from localdev import servers as local_servers

    try:
        return local_servers.oidc_provider_module()
    except local_servers.NotInstalled as missing:
        if os.environ.get("CI"):
            pytest.fail(f"oidc-provider: {missing}")
        pytest.skip(f"NOT TESTED AGAINST OIDC-PROVIDER: {missing}")


def signing_key(kid: str | None = None) -> dict:
    """A new RSA private JWK (RS256 is what oidc-provider signs ID tokens with by default)."""
    from joserfc.jwk import RSAKey

    kid = kid or f"k-{time.monotonic_ns()}"
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"},
                               private=True).as_dict(private=True)


class OidcProvider:
    def __init__(self, issuer: str, keys: list[dict]):
        self.issuer = issuer
        self.keys = keys  # private JWKs the provider signs with and publishes (public parts)

    def log_in(self, authorization_url: str, email: str, amr=("pwd", "mfa"), acr: str | None = None) -> str:
        """Go through the provider as a browser would: to its login form, submitted with this
        email and these amr/acr; returns the redirect to the client (code and state, or error)
        without requesting it."""
        browser = requests.Session()
        response = browser.get(authorization_url, allow_redirects=False, timeout=5)
        submitted = False
        for _ in range(10):
            if response.status_code == 200 and not submitted:
                action = re.search(r'<form method="post" action="([^"]+)"', response.text)
                assert action, f"no login form at {response.url}:\n{response.text[:500]}"
                form = [("email", email), *(("amr", value) for value in amr), ("acr", acr or "")]
                response = browser.post(urllib.parse.urljoin(response.url, action.group(1)), data=form,
                                        allow_redirects=False, timeout=5)
                submitted = True
                continue
            assert response.is_redirect, f"{response.status_code} at {response.url}:\n{response.text[:500]}"
            location = urllib.parse.urljoin(response.url, response.headers["location"])
            if not location.startswith(self.issuer + "/"):
                return location
            response = browser.get(location, allow_redirects=False, timeout=5)
        raise AssertionError("the provider kept redirecting")

    def use_keys(self, keys: list[dict]) -> None:
        """From now on the provider signs with keys[0] and publishes all of them."""
        requests.post(f"{self.issuer}/_test/keys", json={"keys": keys}, timeout=5).raise_for_status()
        self.keys = keys

    def rotate_keys(self) -> str:
        """A rotation: a new key with a new kid, the old key gone. Returns the new kid."""
        key = signing_key()
        self.use_keys([key])
        return key["kid"]

    @contextlib.contextmanager
    def impostor_key(self):
        """Inside, tokens are signed by another key under the same kid (as if the kid were forged
        by someone without the provider's key); the genuine keys come back at exit."""
        genuine = self.keys
        self.use_keys([signing_key(genuine[0]["kid"]), *genuine[1:]])
        try:
            yield
        finally:
            self.use_keys(genuine)


@contextlib.contextmanager
def oidc_provider(clients: list[Client], id_token_ttl: int = 600):
    """oidc-provider on a free port of 127.0.0.1 with these clients; yields an OidcProvider and
    stops the process at exit."""
    from localdev.embedded_aws import free_port

    module = require_oidc_provider()
    port = free_port()
    keys = [signing_key()]
    # The log is a file, not a pipe: a pipe nobody reads would stall the provider once full.
    with tempfile.TemporaryDirectory() as folder, open(os.path.join(folder, "provider.log"), "w+") as log:
        config = os.path.join(folder, "config.json")
        with open(config, "w") as f:
            json.dump({"port": port, "id_token_ttl": id_token_ttl, "jwks": {"keys": keys},
                       "clients": [{"client_id": c.client_id, "client_secret": c.client_secret,
                                    "redirect_uris": [c.redirect_uri]} for c in clients]}, f)
        process = subprocess.Popen(["node", str(SCRIPT), config], stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "OIDC_PROVIDER_MODULE": str(module)})
        provider = OidcProvider(f"http://127.0.0.1:{port}", keys)
        try:
            wait_until_answering(provider.issuer + "/.well-known/openid-configuration", process, log,
                                 "oidc-provider", timeout=30)
            yield provider
        finally:
            stop(process, timeout=5)

