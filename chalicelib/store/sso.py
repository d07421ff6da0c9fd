"""Single sign-on: connections (with one item per email domain, which says where its people
log in and whether a password is still allowed), the single-use requests sent to identity
providers, and the SAML assertion ids already used.
"""
from chalicelib.clock import random_below
from chalicelib.store.accounts import parse_stand_in_account
from chalicelib.store.engine import (
    _alive,
    _batch_delete,
    _get,
    _get_all,
    _op_check,
    _op_delete,
    _op_put,
    _op_update,
    _query,
    _replace_value,
    _update,
    transact,
)
from chalicelib.store.keys import (
    GSI1,
    SSO_CONNECTIONS,
    _account_key,
    _sso_assertion_key,
    _sso_connection_event_key,
    _sso_connection_index_key,
    _sso_connection_key,
    _sso_domain_key,
    _sso_enforced_copy_key,
    _sso_request_key,
)

# An enforced domain is also written as this many copies, each its own partition: a password
# login's session is issued on the condition that one copy, picked at random, is absent. The
# domain's own item would otherwise take that check (2 write units) from every login of a big
# domain (a company's, a mail provider's): 500 a second at most (docs/scaling.md). Changing the
# number needs every enforced connection enforced again.
DOMAIN_CHECK_COPIES = 16

# ---------------------------------------------------------------- connections and domains


def op_put_connection(connection: dict) -> dict:
    key = _sso_connection_key(connection["connection_id"])
    return _op_put(key, {**connection, **_sso_connection_index_key(connection["connection_id"])},
                   condition="attribute_not_exists(PK)")


def op_claim_domain(domain: str, connection_id: str, enforced: bool) -> dict:
    """A domain belongs to one connection: fails when another holds it."""
    return _op_put(_sso_domain_key(domain), {"domain": domain, "connection_id": connection_id, "enforced": enforced},
                   condition="attribute_not_exists(PK)")


def get_connection(connection_id: str) -> dict | None:
    return _get(_sso_connection_key(connection_id), None)


def list_connections() -> list[dict]:
    return _query("GSI1PK = :pk", {":pk": SSO_CONNECTIONS}, index=GSI1)


def replace_connection_secret(connection_id: str, old: bytes, new: bytes) -> bool:
    """The client secret re-encrypted, only while it is still `old`; whether it was written."""
    return _replace_value(_sso_connection_key(connection_id), "client_secret", old, new)


def get_domain(domain: str) -> dict | None:
    return _get(_sso_domain_key(domain), None)


def get_account_and_domain(email: str, domain: str, now: int) -> tuple[dict | None, dict | None]:
    """The password step's one read: the account (unless expired) and its email domain's
    SSO item, if any. Without an account (not even an expired one), a stand-in is parsed in
    its place: the same work either way (bench/password_timing.py)."""
    account, domain_item = _get_all([_account_key(email), _sso_domain_key(domain)])
    if account is None:
        parse_stand_in_account()
    return _alive(account, now), domain_item


def ops_set_enforced(connection: dict, enforced: bool) -> list[dict]:
    """The connection and each of its domains, only while they are still its own."""
    values = {":e": enforced, ":c": connection["connection_id"]}
    return [_op_update(_sso_connection_key(connection["connection_id"]), "SET enforced = :e", values,
                       condition="connection_id = :c"),
            *(_op_update(_sso_domain_key(d), "SET enforced = :e", values, condition="connection_id = :c")
              for d in connection["domains"])]


def ops_delete_connection(connection: dict) -> list[dict]:
    values = {":c": connection["connection_id"]}
    return [_op_delete(_sso_connection_key(connection["connection_id"]), condition="connection_id = :c",
                       values=values),
            *(_op_delete(_sso_domain_key(d), condition="connection_id = :c", values=values)
              for d in connection["domains"])]


def op_domain_allows_passwords(domain: str) -> dict:
    """Holds unless the domain is enforced (checked in the transaction that issues a password
    login's session, so enforcing it ends logins already half way): on one of its copies."""
    return _op_check(_sso_enforced_copy_key(domain, random_below(DOMAIN_CHECK_COPIES)), "attribute_not_exists(PK)")


def op_put_connection_event(connection_id: str, event: dict) -> dict:
    return _op_put(_sso_connection_event_key(connection_id, event["at_ms"], event["event_id"]), event)


def put_enforced_copies(connection: dict) -> None:
    """Every copy of each domain's enforcement, before the connection says it is enforced."""
    ops = [_op_put(_sso_enforced_copy_key(d, n), {"domain": d, "connection_id": connection["connection_id"]})
           for d in connection["domains"] for n in range(DOMAIN_CHECK_COPIES)]
    for start in range(0, len(ops), 100):   # a transaction's most
        transact(ops[start:start + 100])


def delete_enforced_copies(connection: dict) -> None:
    """After the connection stopped being enforced (or is about to go)."""
    _batch_delete([_sso_enforced_copy_key(d, n) for d in connection["domains"] for n in range(DOMAIN_CHECK_COPIES)])


# ---------------------------------------------------------------- requests sent to identity providers

def op_put_request(request_id: str, record: dict) -> dict:
    return _op_put(_sso_request_key(request_id), {**record, "used": False}, condition="attribute_not_exists(PK)")


def use_request(request_id: str, browser_hash: str, now: int) -> dict:
    """Marks the request used and returns it, only for the browser that started it, once,
    before it expires; else ConditionFailed (its `old` None for an unknown request)."""
    return _update(_sso_request_key(request_id), "SET used = :true, used_at = :now",
                   {":true": True, ":false": False, ":now": now, ":b": browser_hash},
                   condition="attribute_exists(PK) AND used = :false AND expires_at > :now AND browser_hash = :b",
                   returns="ALL_OLD")


def op_use_assertion(issuer: str, assertion_id: str, until: int, now: int) -> dict:
    """A SAML assertion is accepted once: its id is kept until the assertion expires."""
    return _op_put(_sso_assertion_key(issuer, assertion_id), {"expires_at": until, "used_at": now},
                   condition="attribute_not_exists(PK) OR expires_at <= :now", values={":now": now})
