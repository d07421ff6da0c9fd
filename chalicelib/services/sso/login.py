"""Logging in (and stepping up) through an identity provider, which must have verified a
second factor.

`start` sends the browser to the IdP with a request that is single use, lives 10 minutes
and is bound to that browser: a random token in an HttpOnly `__Host-` cookie whose hash the
request keeps (OIDC: the request is keyed by `state`, and the PKCE verifier is derived from
the cookie, so it is never stored; SAML: keyed by the AuthnRequest ID, which the response's
InResponseTo names). The callback marks the request used, for that browser only, before it
reads the answer, then checks the answer (idp/oidc.py, idp/saml.py), the MFA claim and the
email's domain, and issues the same web session as a password and second factor would, with
`auth: "sso"`. A person of the domain seen for the first time gets an account (verified
email, no password, no local method: their MFA is at the IdP).

Step-up on an SSO session goes back to the IdP with forced re-authentication (OIDC
`prompt=login`, `max_age=0`; SAML ForceAuthn) and checks the MFA claim again.

Round trips of a login callback: 1 read (the connection) + 1 conditional update (use the
request) + 1 read (the account) + 1 transaction (account if new, session, assertion id, audit
event); OIDC adds the IdP's token endpoint (and its discovery and JWKS when not cached) and,
once per container, the KMS decryption of the client secret.
"""
import base64
import hashlib
import re
from dataclasses import dataclass

from chalicelib import crypto, errors, store
from chalicelib.clock import now_s, random_id, random_token
from chalicelib.config import get_settings
from chalicelib.ledger import audit
from chalicelib.ledger.change import Change
from chalicelib.records import Client
from chalicelib.services import sessions
from chalicelib.services.sso import connections
from chalicelib.services.sso.connections import OIDC

LOGIN = "login"
STEP_UP = "step_up"
DEFAULT_RETURN = "/account"
# A path of the frontend, never another site (an open redirect).
_RETURN_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9/_\-.~?=&%]{0,200}$")
# An address as the API accepts one: one @, no spaces or control characters.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[a-z0-9.-]{1,253}$")


@dataclass
class Outcome:
    """Where the browser goes next, with the new session (a login) or without (a step-up)."""
    return_to: str
    session: sessions.NewSession | None
    account_id: str


def browser_hash(browser: str | None) -> str:
    return crypto.hash_token(browser or "")


def _code_verifier(browser: str) -> str:
    # Derived from the browser's cookie: the IdP sees the verifier, never the cookie.
    return base64.urlsafe_b64encode(hashlib.sha256(f"pkce:{browser}".encode()).digest()).rstrip(b"=").decode()


def callback_url(connection: dict) -> str:
    base = get_settings().public_base_url.rstrip("/")
    cid = connection["connection_id"]
    return f"{base}/v1/sso/{cid}/oidc/callback" if connection["protocol"] == OIDC else f"{base}/v1/sso/{cid}/saml/acs"


def sp_entity_id(connection_id: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/v1/sso/{connection_id}/saml/metadata"


def sp_metadata(connection_id: str) -> str:
    from chalicelib.idp import saml

    connection = connections.get(connection_id)
    if connection["protocol"] != connections.SAML:
        raise errors.sso_not_configured()
    return saml.sp_metadata(entity_id=sp_entity_id(connection_id), acs_url=callback_url(connection))


def start(connection: dict, client: Client, *, return_to: str | None = None,
          session: dict | None = None) -> tuple[str, str]:
    """(the IdP's URL for the browser, the token for its binding cookie). With `session`, a
    step-up of that SSO session (forced re-authentication at the IdP)."""
    s = get_settings()
    n = now_s()
    return_to = return_to if return_to and _RETURN_PATH.match(return_to) else DEFAULT_RETURN
    browser = random_token(32)
    record = {"connection_id": connection["connection_id"], "purpose": STEP_UP if session else LOGIN,
              "browser_hash": browser_hash(browser), "return_to": return_to, "created_at": n,
              "expires_at": n + s.sso_request_seconds}
    if session:
        record.update(session_hash=session["token_hash"], account_id=session["account_id"], email=session["email"])
    if connection["protocol"] == OIDC:
        from chalicelib.idp import IdpRefused, oidc

        request_id, nonce = random_token(24), random_token(24)
        try:
            url = oidc.authorization_url(
                connection["issuer"], client_id=connection["client_id"], redirect_uri=callback_url(connection),
                scopes=connection["scopes"], state=request_id, nonce=nonce, code_verifier=_code_verifier(browser),
                acr_values=connection["acr_values"], force_reauthentication=session is not None)
        except IdpRefused:   # its discovery document could not be read
            raise errors.idp_unavailable() from None
        record["nonce"] = nonce
    else:
        from chalicelib.idp import saml

        request_id = saml.new_request_id()
        url = saml.authn_request_url(
            sso_url=connection["sso_url"], request_id=request_id,
            sp_entity_id=sp_entity_id(connection["connection_id"]), acs_url=callback_url(connection), now=n,
            authn_context_class_refs=connection["authn_context_class_refs"], force_authn=session is not None,
            relay_state=None)
    Change("", "", client).limit(s.login_window_seconds, ("sso-start-ip", client.ip_or_unknown,
                                                         s.sso_start_limit_per_ip)).add(
        store.op_put_request(request_id, record)).commit()
    return url, browser


def _use_request(request_id: str, connection_id: str, browser: str | None) -> dict:
    if not request_id or len(request_id) > 128:
        raise errors.sso_request_invalid()
    try:
        request = store.use_request(request_id, browser_hash(browser), now_s())
    except store.ConditionFailed:
        raise errors.sso_request_invalid() from None
    if request["connection_id"] != connection_id:
        raise errors.sso_request_invalid()
    return request


def finish_oidc(connection_id: str, *, state: str, code: str | None, idp_error: str | None, browser: str | None,
                client: Client) -> Outcome:
    from chalicelib.idp import IdpRefused, oidc

    connection = connections.get(connection_id)
    if connection["protocol"] != OIDC:
        raise errors.sso_not_configured()
    request = _use_request(state, connection_id, browser)
    n = now_s()
    if idp_error is not None and not re.fullmatch(r"[a-z_]{1,64}", idp_error):
        idp_error = "invalid_error"   # RFC 6749's codes are short snake_case: nothing else is logged
    if idp_error or not code:
        # The IdP could not (or would not) authenticate as asked, e.g. no second factor.
        _refused(connection, request, client, idp_error or "no_code")
        if idp_error in ("unmet_authentication_requirements", "interaction_required"):
            raise errors.idp_mfa_required()
        raise errors.sso_refused(idp_error or "no_code")
    try:
        id_token = oidc.exchange_code(connection["issuer"], client_id=connection["client_id"],
                                      client_secret=connections.client_secret(connection), code=code,
                                      redirect_uri=callback_url(connection), code_verifier=_code_verifier(browser))
        claims = oidc.validate_id_token(
            id_token, issuer=connection["issuer"], client_id=connection["client_id"], nonce=request["nonce"], now=n,
            authenticated_since=request["created_at"] if request["purpose"] == STEP_UP else None)
    except IdpRefused as refused:
        _refused(connection, request, client, refused.reason)
        raise errors.sso_refused(refused.reason) from None
    if claims.get("email_verified") is False:
        _refused(connection, request, client, "email_not_verified")
        raise errors.sso_refused("email_not_verified")
    email = str(claims.get("email") or "").strip().lower()
    mfa = oidc.mfa_verified(claims, amr_values=connection["amr_values"], acr_values=connection["acr_values"])
    evidence = {"amr": claims.get("amr"), "acr": claims.get("acr")}
    return _finish(connection, request, email, mfa, evidence, client, ops=[])


def finish_saml(connection_id: str, *, saml_response: str, browser: str | None, client: Client) -> Outcome:
    from chalicelib.idp import IdpRefused, saml

    connection = connections.get(connection_id)
    if connection["protocol"] != connections.SAML:
        raise errors.sso_not_configured()
    s = get_settings()
    n = now_s()
    idp = saml.IdpMetadata(entity_id=connection["idp_entity_id"], sso_url=connection["sso_url"],
                           certificates=tuple(connection["certificates"]))
    try:
        assertion = saml.read_response(saml_response, idp=idp, sp_entity_id=sp_entity_id(connection_id),
                                       acs_url=callback_url(connection), now=n, skew=s.sso_clock_skew_seconds)
    except IdpRefused as refused:
        # Nothing in it can be trusted, not even which request it answers: nothing is used up.
        _log(connection, None, "sso_login_refused", client, reason=refused.reason)
        raise errors.sso_refused(refused.reason) from None
    # InResponseTo names a request this browser started, unused and unexpired.
    request = _use_request(assertion.in_response_to, connection_id, browser)
    forced_since = request["created_at"] - s.sso_clock_skew_seconds
    if request["purpose"] == STEP_UP and (assertion.authn_instant or 0) < forced_since:
        _refused(connection, request, client, "stale_authentication")
        raise errors.sso_refused("stale_authentication")
    mfa = assertion.authn_context_class_ref in connection["authn_context_class_refs"]
    evidence = {"authn_context": assertion.authn_context_class_ref}
    used = store.op_use_assertion(assertion.issuer, assertion.assertion_id,
                                  assertion.not_on_or_after + s.sso_clock_skew_seconds, n)
    return _finish(connection, request, assertion.email or "", mfa, evidence, client, ops=[used])


def _finish(connection: dict, request: dict, email: str, mfa: bool, evidence: dict, client: Client,
            ops: list[dict]) -> Outcome:
    if not _EMAIL.match(email) or connections.domain_of(email) not in connection["domains"]:
        # An IdP speaks only for its own domains: anything else would hand it other people's accounts.
        _refused(connection, request, client, "email_domain")
        raise errors.sso_email_not_allowed()
    if request["purpose"] == STEP_UP and email != request["email"]:
        _refused(connection, request, client, "another_person")
        raise errors.sso_refused("another_person")
    if not mfa:
        _refused(connection, request, client, "idp_mfa_missing", email=email, **evidence)
        raise errors.idp_mfa_required()
    n = now_s()
    details = {"connection_id": connection["connection_id"], **{k: v for k, v in evidence.items() if v}}
    if request["purpose"] == STEP_UP:
        Change(request["account_id"], email, client).add(
            store.op_mark_step_up(request["session_hash"], n), on_fail=errors.unauthenticated(),
        ).add(*ops, on_fail=errors.sso_refused("replayed")).audit("step_up_succeeded", method_type="sso",
                                                                   **details).commit()
        return Outcome(request["return_to"], None, request["account_id"])
    account = store.get_account(email, n)
    new = account is None or not account["email_verified"]
    if new:
        account = {"account_id": random_id(), "email": email, "email_verified": True, "created_at": n, "methods": {},
                   "created_by_sso": connection["connection_id"]}
    change = Change(account["account_id"], email, client).add(*ops, on_fail=errors.sso_refused("replayed"))
    if new:
        change.add(store.op_create_sso_account(account, n), on_fail=errors.try_again())
        change.audit("account_created_by_sso", **details)
    session = sessions.new_session(account["account_id"], email, sessions.WEB, client, mfa_at=n, auth="sso",
                                   connection_id=connection["connection_id"])
    change.add(*store.ops_put_session(session.token_hash, session.record)).audit("sso_login_succeeded", **details)
    change.commit()
    return Outcome(request["return_to"], session, account["account_id"])


def _refused(connection: dict, request: dict, client: Client, reason: str, email: str | None = None,
             **details) -> None:
    account_id = request.get("account_id")
    if account_id is None and email:
        account = store.get_account(email, now_s())
        account_id = account["account_id"] if account else None
    _log(connection, account_id, "sso_login_refused" if request["purpose"] == LOGIN else "sso_step_up_refused",
         client, reason=reason, **details)


def _log(connection: dict, account_id: str | None, kind: str, client: Client, **details) -> None:
    """On the account's log when the person is known, and always on the connection's (its
    administrators learn, for instance, that their IdP does not require MFA)."""
    details = {k: v for k, v in details.items() if v}
    ops = [store.op_put_connection_event(connection["connection_id"], audit.event(kind, client, **details))]
    if account_id:
        ops.append(audit.op(account_id, kind, client, connection_id=connection["connection_id"], **details))
    store.transact(ops)


def step_up_start(session: dict, client: Client, return_to: str | None) -> tuple[str, str]:
    """A step-up of an SSO session goes back to its IdP."""
    if session.get("kind") != sessions.WEB:
        raise errors.browser_session_required()
    if session.get("auth") != "sso":
        raise errors.not_sso_session()
    return start(connections.get(session.get("sso_connection_id", "")), client, return_to=return_to,
                 session=session)

