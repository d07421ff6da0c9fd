"""OpenID Connect, authorization code flow with PKCE (S256), state and nonce.

What to send the issuer (authorization_url), the back-channel code exchange (exchange_code),
whether an ID token is genuine, for us, fresh and the answer to our request (validate_id_token),
and whether it says the person used more than one factor (mfa_verified). The issuer's discovery
document and keys are cached in memory per issuer; keeping state, nonce and verifier single use is
the caller's job. Every refusal is an IdpRefused.
"""
import base64
import hashlib
import hmac
import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from chalicelib.idp import REFEDS_MFA, IdpRefused

DEFAULT_AMR_VALUES = ["mfa"]
DEFAULT_ACR_VALUES = [REFEDS_MFA]
# Asymmetric only: "none" proves nothing, and HS* would make the client secret a signing key.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
TIMEOUT = 5
MAX_RESPONSE = 1 << 20
DISCOVERY_TTL = 3600
REFETCH_INTERVAL = 60  # an unknown kid refetches the JWKS at most this often: no hammering the IdP
MAX_TOKEN_AGE = 3600  # an ID token is used right after the code exchange; an hour old is not that
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")

_discoveries: dict[str, tuple[float, dict]] = {}  # issuer -> (monotonic time fetched, document)
_key_sets: dict[str, "_KeySet"] = {}


class _KeySet:
    def __init__(self, keys: dict):
        self.keys = keys  # kid (None for a key without one) -> public JWK
        self.refetched_at: float | None = None  # monotonic time of the last refetch for an unknown kid


def forget_cached_keys() -> None:
    """Drop cached discovery documents and keys (tests)."""
    _discoveries.clear()
    _key_sets.clear()


# ---------------------------------------------------------------- URLs

def _secure(url: str, *, query_allowed: bool = False) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return False
    local = parts.hostname in LOCAL_HOSTS
    return (bool(parts.hostname) and port != 0 and (parts.scheme == "https" or (parts.scheme == "http" and local))
            and not parts.username and not parts.password and not parts.fragment
            and (query_allowed or not parts.query))


def check_issuer_url(url: str) -> str:
    """The issuer identifier as it must appear in discovery and in tokens: https (http only on
    this machine, for tests), no query, fragment or credentials."""
    url = url.strip()
    if not _secure(url):
        raise ValueError("An OpenID Connect issuer must be an https:// URL without query, fragment or "
                         "credentials (http:// only on 127.0.0.1, localhost or [::1]).")
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))


def code_challenge(verifier: str) -> str:
    """PKCE S256 (RFC 7636): base64url, unpadded, of the verifier's SHA-256."""
    if not _VERIFIER.fullmatch(verifier):
        raise ValueError("A PKCE code verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~.")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# ---------------------------------------------------------------- HTTP

class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Endpoints are used where discovery says they are; a redirect could leave https."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _read_json(response) -> dict:
    body = response.read(MAX_RESPONSE + 1)
    if len(body) > MAX_RESPONSE:
        raise ValueError("the response is larger than 1 MiB")
    content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ValueError(f"the response is not JSON ({content_type or 'no content type'})")
    value = json.loads(body)
    if not isinstance(value, dict):
        raise TypeError("the response is not a JSON object")
    return value


def _request_json(url: str, form: dict | None = None, headers: dict | None = None) -> dict:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json", **(headers or {})})
    with _opener.open(request, timeout=TIMEOUT) as response:
        return _read_json(response)


# HTTPError is a URLError, a JSON error a ValueError.
_FETCH_ERRORS = (urllib.error.URLError, OSError, http.client.HTTPException, ValueError, TypeError)


# ---------------------------------------------------------------- discovery and keys

def _discovery(issuer: str) -> dict:
    issuer = check_issuer_url(issuer)
    cached = _discoveries.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    try:
        document = _request_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    except _FETCH_ERRORS as error:
        raise IdpRefused("discovery_failed", f"{issuer}: {error}") from error
    if document.get("issuer") != issuer:
        raise IdpRefused("discovery_failed", f"the discovery document at {issuer} names the issuer "
                                             f"{document.get('issuer')!r}")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(name), str) or not _secure(document[name], query_allowed=True):
            raise IdpRefused("discovery_failed", f"{issuer}: {name} is missing or not https")
    _discoveries[issuer] = (time.monotonic(), document)
    return document


def _fetch_keys(issuer: str) -> dict:
    jwks_uri = _discovery(issuer)["jwks_uri"]
    try:
        key_set = _request_json(jwks_uri)
    except _FETCH_ERRORS as error:
        raise IdpRefused("discovery_failed", f"{jwks_uri}: {error}") from error
    keys = key_set.get("keys")
    if not isinstance(keys, list):
        raise IdpRefused("discovery_failed", f"{jwks_uri} has no list of keys")
    return {key.get("kid"): key for key in keys if isinstance(key, dict) and key.get("use", "sig") == "sig"}


def _key_for(issuer: str, kid) -> dict:
    """The issuer's public key with this kid. An unknown kid (a rotation) refetches the JWKS
    once, and at most once per REFETCH_INTERVAL per issuer."""
    key_set = _key_sets.get(issuer)
    fresh = key_set is None
    if fresh:
        key_set = _key_sets[issuer] = _KeySet(_fetch_keys(issuer))
    if kid not in key_set.keys and not fresh:
        now = time.monotonic()
        if key_set.refetched_at is None or now - key_set.refetched_at >= REFETCH_INTERVAL:
            key_set.refetched_at = now
            key_set.keys = _fetch_keys(issuer)
    if kid in key_set.keys:
        return key_set.keys[kid]
    if kid is None and len(key_set.keys) == 1:  # a token without kid, an issuer with one key
        return next(iter(key_set.keys.values()))
    raise IdpRefused("invalid_token", f"the issuer's JWKS has no signing key {kid!r}")


# ---------------------------------------------------------------- the flow

def authorization_url(issuer: str, *, client_id: str, redirect_uri: str, scopes: list[str], state: str, nonce: str,
                      code_verifier: str, acr_values: list[str], force_reauthentication: bool) -> str:
    """Where to send the browser. Asking for MFA (acr_values, and the claims request for acr
    and amr) is a wish: the answer is checked in the token, whatever the IdP did with it."""
    endpoint = _discovery(issuer)["authorization_endpoint"]
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": " ".join(dict.fromkeys(["openid", *scopes])), "state": state, "nonce": nonce,
        "code_challenge": code_challenge(code_verifier), "code_challenge_method": "S256",
    }
    if acr_values:
        params["acr_values"] = " ".join(acr_values)
        params["claims"] = json.dumps({"id_token": {"acr": {"essential": True, "values": list(acr_values)},
                                                    "amr": None}}, separators=(",", ":"))
    if force_reauthentication:
        params.update(prompt="login", max_age="0")
    separator = "&" if urllib.parse.urlsplit(endpoint).query else "?"
    return endpoint + separator + urllib.parse.urlencode(params)


def exchange_code(issuer: str, *, client_id: str, client_secret: str, code: str, redirect_uri: str,
                  code_verifier: str) -> str:
    """The ID token for this code, from the token endpoint (client_secret_basic, or
    client_secret_post where discovery says basic is not supported)."""
    try:
        document = _discovery(issuer)
    except IdpRefused as refused:
        raise IdpRefused("token_exchange_failed", refused.detail) from refused
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": code_verifier}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" in methods:
        # RFC 6749 2.3.1: both parts are form-encoded before the Basic encoding.
        pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    elif "client_secret_post" in methods:
        form.update(client_id=client_id, client_secret=client_secret)
    else:
        raise IdpRefused("token_exchange_failed", "the issuer accepts neither client_secret_basic nor "
                                                  "client_secret_post")
    try:
        answer = _request_json(document["token_endpoint"], form, headers)
    except urllib.error.HTTPError as error:
        raise IdpRefused("token_exchange_failed", f"HTTP {error.code} {_oauth_error(error)}") from error
    except _FETCH_ERRORS as error:
        raise IdpRefused("token_exchange_failed", str(error)) from error
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise IdpRefused("token_exchange_failed", "the token response has no id_token")
    return id_token


def _oauth_error(error: urllib.error.HTTPError) -> str:
    """The OAuth error code and description from an error response, for the logs."""
    try:
        body = _read_json(error)
    except (OSError, http.client.HTTPException, ValueError, TypeError):
        return ""
    return " ".join(str(body[name])[:200] for name in ("error", "error_description") if name in body)


def validate_id_token(id_token: str, *, issuer: str, client_id: str, nonce: str, now: int,
                      authenticated_since: int | None = None, leeway: int = 60) -> dict:
    """The token's claims, once its signature (the issuer's JWKS), issuer, audience, times and
    nonce are right; with authenticated_since, the person also logged in at the IdP since then
    (a forced re-authentication really happened)."""
    issuer = check_issuer_url(issuer)
    claims = _verified_claims(id_token, issuer)
    if claims.get("iss") != issuer:
        raise IdpRefused("wrong_issuer", f"iss {claims.get('iss')!r}")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if client_id not in audiences:
        raise IdpRefused("wrong_audience", f"aud {audience!r}")
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise IdpRefused("wrong_audience", f"azp {claims.get('azp')!r}")
    if _time(claims, "exp") <= now - leeway:
        raise IdpRefused("expired", "exp has passed")
    issued_at = _time(claims, "iat")
    if issued_at > now + leeway:
        raise IdpRefused("issued_in_future", "iat is ahead of our clock")
    if issued_at < now - MAX_TOKEN_AGE - leeway:
        raise IdpRefused("expired", "issued more than an hour ago")
    claimed_nonce = claims.get("nonce")
    if not isinstance(claimed_nonce, str) or not hmac.compare_digest(claimed_nonce.encode(), nonce.encode()):
        raise IdpRefused("wrong_nonce", "the nonce is not the one this login sent")
    if authenticated_since is not None:
        auth_time = claims.get("auth_time")
        if not _is_number(auth_time) or auth_time < authenticated_since - leeway:
            raise IdpRefused("stale_authentication", f"auth_time {auth_time!r} is before the re-authentication")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdpRefused("invalid_token", "no sub")
    return claims


def _verified_claims(id_token: str, issuer: str) -> dict:
    from joserfc import jws, jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import import_key

    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError, TypeError) as error:
        raise IdpRefused("invalid_token", f"not a signed JWT: {error}") from error
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise IdpRefused("invalid_token", f"algorithm {algorithm!r} is not accepted")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise IdpRefused("invalid_token", "the kid is not a string")
    key = _key_for(issuer, kid)
    if key.get("alg", algorithm) != algorithm:  # a key published for one algorithm serves no other
        raise IdpRefused("invalid_token", f"key {kid!r} is for {key.get('alg')!r}, not {algorithm!r}")
    try:
        claims = jwt.decode(id_token, import_key(key), algorithms=[algorithm]).claims
    except (JoseError, ValueError, TypeError) as error:
        raise IdpRefused("invalid_token", f"the signature does not verify: {error}") from error
    if not isinstance(claims, dict):
        raise IdpRefused("invalid_token", "the payload is not a JSON object")
    return claims


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _time(claims: dict, name: str) -> float:
    if not _is_number(claims.get(name)):
        raise IdpRefused("invalid_token", f"{name} is missing or not a number")
    return claims[name]


def mfa_verified(claims: dict, *, amr_values: list[str], acr_values: list[str]) -> bool:
    """Whether the ID token says more than one factor was used: an amr (RFC 8176) among
    amr_values, or an acr among acr_values."""
    amr = claims.get("amr")
    if isinstance(amr, list) and any(isinstance(value, str) and value in amr_values for value in amr):
        return True
    acr = claims.get("acr")
    return isinstance(acr, str) and acr in acr_values
