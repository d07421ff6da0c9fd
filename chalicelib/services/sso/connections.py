"""SSO connections, managed by operators (`python -m ops.sso`): which email domains log in
through which identity provider, what counts as MFA there, and whether a password is still
allowed (`enforced`).

A connection is one item; each of its domains is another item naming it, so the password
step learns in the read it already makes (store.get_account_and_domain) whether the
email's domain is enforced. A domain belongs to one connection. Every change is recorded in
the connection's own log with the operator's AWS identity.
"""
import functools
import re

from chalicelib import errors, store
from chalicelib.clock import now_s, random_id
from chalicelib.idp import REFEDS_MFA
from chalicelib.ledger import audit, secrets
from chalicelib.records import operator

OIDC = "oidc"
SAML = "saml"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DEFAULT_SCOPES = ("openid", "email", "profile")
DEFAULT_AMR_VALUES = ("mfa",)


class InvalidConnection(ValueError):
    """A connection that cannot work as given (the operator's command says why)."""


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _domains(domains: list[str]) -> list[str]:
    cleaned = sorted({d.strip().lower().rstrip(".") for d in domains})
    bad = [d for d in cleaned if not _DOMAIN.match(d)]
    if not cleaned or bad:
        raise InvalidConnection(f"not an email domain: {', '.join(bad) or '(none given)'}")
    return cleaned


def secret_context(connection_id: str) -> dict[str, str]:
    """The client secret's encryption context (ledger/secrets.py)."""
    return {"purpose": "sso_client_secret", "connection_id": connection_id}


def add_oidc(*, name: str, domains: list[str], issuer: str, client_id: str, client_secret: str,
             scopes: list[str] = DEFAULT_SCOPES, amr_values: list[str] = DEFAULT_AMR_VALUES,
             acr_values: list[str] = (REFEDS_MFA,), operator_arn: str) -> dict:
    from chalicelib.idp import oidc

    try:
        issuer = oidc.check_issuer_url(issuer)
    except ValueError as error:
        raise InvalidConnection(str(error)) from None
    if not client_id or not client_secret:
        raise InvalidConnection("an OIDC connection needs the client id and secret the identity provider issued")
    if "openid" not in scopes:
        raise InvalidConnection("the scopes must include openid")
    if not amr_values and not acr_values:
        raise InvalidConnection("name at least one amr or acr value that means a second factor was used")
    connection_id = random_id()
    return _add(connection_id, name, domains, operator_arn, protocol=OIDC, issuer=issuer, client_id=client_id,
                client_secret=secrets.seal(client_secret.encode(), secret_context(connection_id)),
                scopes=list(scopes), amr_values=list(amr_values), acr_values=list(acr_values))


def add_saml(*, name: str, domains: list[str], metadata_xml: str,
             authn_context_class_refs: list[str] = (REFEDS_MFA,), operator_arn: str) -> dict:
    from chalicelib.idp import IdpRefused, saml

    try:
        idp = saml.parse_idp_metadata(metadata_xml)
    except IdpRefused as refused:
        raise InvalidConnection(f"the identity provider's metadata cannot be used: {refused}") from None
    if not authn_context_class_refs:
        raise InvalidConnection("name at least one AuthnContextClassRef that means a second factor was used")
    return _add(random_id(), name, domains, operator_arn, protocol=SAML, idp_entity_id=idp.entity_id,
                sso_url=idp.sso_url, certificates=list(idp.certificates),
                authn_context_class_refs=list(authn_context_class_refs))


def _add(connection_id: str, name: str, domains: list[str], operator_arn: str, **details) -> dict:
    domains = _domains(domains)
    connection = {"connection_id": connection_id, "name": name.strip() or domains[0], "domains": domains,
                  "enforced": False, "created_at": now_s(), **details}
    ops = [store.op_put_connection(connection), *(store.op_claim_domain(d, connection_id, False) for d in domains),
           _event(connection_id, "sso_connection_added", operator_arn, protocol=details["protocol"], domains=domains)]
    try:
        store.transact(ops)
    except store.ConditionFailed as failed:
        taken = [d for i, d in enumerate(domains) if failed.failed(1 + i)]
        raise errors.sso_domain_taken(", ".join(taken) or ", ".join(domains)) from None
    return connection


def _event(connection_id: str, kind: str, operator_arn: str, **details) -> dict:
    return store.op_put_connection_event(connection_id, audit.event(kind, operator(f"operator ({operator_arn})"),
                                                                    operator=operator_arn, **details))


def get(connection_id: str) -> dict:
    connection = store.get_connection(connection_id) if connection_id else None
    if connection is None:
        raise errors.sso_not_configured()
    return connection


def for_email(email: str) -> dict:
    """The connection of the email's domain (a domain, not a person, is revealed)."""
    domain = store.get_domain(domain_of(email))
    if domain is None:
        raise errors.sso_not_configured()
    return get(domain["connection_id"])


def client_secret(connection: dict) -> str:
    return _decrypted_secret(connection["connection_id"], bytes(connection["client_secret"]))


@functools.lru_cache(maxsize=64)
def _decrypted_secret(connection_id: str, ciphertext: bytes) -> str:
    # Once per container and ciphertext (a new secret is a new ciphertext, so it is opened
    # afresh): a legacy KMS ciphertext, until ops.keys reencrypt seals it, costs one KMS call.
    return secrets.open_secret(ciphertext, secret_context(connection_id)).decode()


def public_view(connection: dict) -> dict:
    """What operators see: everything but the client secret."""
    return {k: v for k, v in connection.items() if k not in ("client_secret", "GSI1PK", "GSI1SK")}


def list_all() -> list[dict]:
    return sorted((public_view(c) for c in store.list_connections()), key=lambda c: c["created_at"])


def _existing(connection_id: str) -> dict:
    connection = store.get_connection(connection_id)
    if connection is None:
        raise errors.sso_connection_not_found()
    return connection


def set_enforced(connection_id: str, enforced: bool, operator_arn: str) -> dict:
    """Enforced: the domains' accounts can no longer log in with a password (their methods
    stay stored, unused); lifted, they can again."""
    connection = _existing(connection_id)
    # The copies logins check (store/sso.py) say "enforced" before the connection does and
    # stop after it stopped: a command that fails half way refuses more, never less, and
    # running it again mends it.
    if enforced:
        store.put_enforced_copies(connection)
    try:
        store.transact([*store.ops_set_enforced(connection, enforced),
                        _event(connection_id, "sso_enforced" if enforced else "sso_enforcement_lifted",
                               operator_arn, domains=connection["domains"])])
    except store.ConditionFailed:
        store.delete_enforced_copies(connection)   # removed meanwhile: nothing is enforced
        raise errors.sso_connection_not_found() from None
    if not enforced:
        store.delete_enforced_copies(connection)
    return {**public_view(connection), "enforced": enforced}


def remove(connection_id: str, operator_arn: str) -> dict:
    """Its domains log in with passwords again; accounts made by it stay (they can reset a
    password by email). Returns what was removed."""
    connection = _existing(connection_id)
    store.delete_enforced_copies(connection)   # it allows passwords from now on
    try:
        store.transact([*store.ops_delete_connection(connection),
                        _event(connection_id, "sso_connection_removed", operator_arn, domains=connection["domains"])])
    except store.ConditionFailed:
        raise errors.sso_connection_not_found() from None
    return public_view(connection)
