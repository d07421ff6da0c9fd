"""Login attempts: what the password step hands to the second-factor step (tries, the
WebAuthn challenge, whether it was used).
"""
from chalicelib.store.engine import _equalities, _get, _op_put, _op_update, _removal, _update
from chalicelib.store.keys import _login_index_key, _login_key


def op_put_login_attempt(login_id: str, attempt: dict) -> dict:
    index = _login_index_key(attempt["account_id"], attempt["created_at"], login_id)
    return _op_put(_login_key(login_id), {**attempt, **index}, condition="attribute_not_exists(PK)")


def reserve_login_try(login_id: str, now: int, max_tries: int, takes: tuple[str, ...] = (),
                      requires: tuple[tuple[str, str], ...] = (), browser_hash: str | None = None) -> dict:
    """Count a try before the code is checked, so a burst of parallel guesses cannot get
    more than `max_tries` codes evaluated. Returns the attempt as it was (with `tries`
    counting this one); raises ConditionFailed (with `old` None for an unknown attempt) when
    it is used, expired or out of tries. The same write removes the attributes `takes`
    names, and holds only if the attributes `requires` names have those values (else nothing
    is counted, and `old` tells why). `browser_hash` must be the attempt's own."""
    condition = "attribute_exists(PK) AND used = :false AND expires_at > :now AND tries < :max"
    values = {":one": 1, ":now": now, ":max": max_tries, ":false": False}
    if browser_hash is not None:
        condition += " AND browser_hash = :browser"
        values[":browser"] = browser_hash
    required, names, required_values = _equalities(requires)
    condition += required
    values.update(required_values)
    attempt = _update(_login_key(login_id), "ADD tries :one" + _removal(takes), values, condition=condition,
                      names=names or None, returns="ALL_OLD")
    attempt["tries"] += 1
    return attempt


def get_login_attempt(login_id: str) -> dict | None:
    """Expired ones included: the caller answers 410 for those, 404 for unknown ones."""
    return _get(_login_key(login_id), None)


def op_consume_login_attempt(login_id: str, now: int) -> dict:
    return _op_update(_login_key(login_id), "SET used = :true, used_at = :now",
                      {":true": True, ":false": False, ":now": now},
                      condition="attribute_exists(PK) AND used = :false AND expires_at > :now")
