"""Login attempts: what the password step hands to the second-factor step (tries, the
WebAuthn challenge, whether it was used).
"""
from chalicelib.store.engine import ConditionFailed, _equalities, _get, _op_put, _op_update, _removal, _update
from chalicelib.store.keys import _login_index_key, _login_key


def op_put_login_attempt(login_id: str, attempt: dict) -> dict:
    index = _login_index_key(attempt["account_id"], attempt["created_at"], login_id)
    return _op_put(_login_key(login_id), {**attempt, **index}, condition="attribute_not_exists(PK)")


def reserve_login_try(login_id: str, try_id: str, now: int, max_tries: int, takes: tuple[str, ...] = (),
                      requires: tuple[tuple[str, str], ...] = (), browser_hash: str | None = None) -> dict:
    """Count a try before the code is checked, so a burst of parallel guesses cannot get
    more than `max_tries` codes evaluated. Returns the attempt as it was (with `tries`
    counting this one); raises ConditionFailed (with `old` None for an unknown attempt) when
    it is used, expired or out of tries. The same write removes the attributes `takes`
    names, and holds only if the attributes `requires` names have those values (else nothing
    is counted, and `old` tells why). `browser_hash` must be the attempt's own.
    The try's `try_id` joins the attempt's `try_ids` in the same write, once: botocore
    resending it (its answer lost) counts nothing more, and the attempt as it now is is
    returned."""
    condition = "attribute_exists(PK) AND used = :false AND expires_at > :now AND tries < :max"
    values = {":one": 1, ":now": now, ":max": max_tries, ":false": False, ":id": try_id, ":ids": {try_id}}
    if browser_hash is not None:
        condition += " AND browser_hash = :browser"
        values[":browser"] = browser_hash
    required, names, required_values = _equalities(requires)
    condition += required + " AND NOT contains(try_ids, :id)"
    values.update(required_values)
    try:
        attempt = _update(_login_key(login_id), "ADD tries :one, try_ids :ids" + _removal(takes), values,
                          condition=condition, names=names or None, returns="ALL_OLD")
    except ConditionFailed as failed:
        if failed.old and try_id in failed.old.get("try_ids", ()):
            return failed.old
        raise
    attempt["tries"] += 1
    return attempt


def release_login_try(login_id: str, try_id: str) -> None:
    """Give back the try `try_id` counted, when its proof could not be checked (an outage):
    once (it joins `released_tries`), and only on an attempt still in use."""
    try:
        _update(_login_key(login_id), "ADD tries :minus, released_tries :ids",
                {":minus": -1, ":id": try_id, ":ids": {try_id}, ":false": False},
                condition="used = :false AND contains(try_ids, :id) AND NOT contains(released_tries, :id)")
    except ConditionFailed:
        pass


def get_login_attempt(login_id: str) -> dict | None:
    """Expired ones included: the caller answers 410 for those, 404 for unknown ones."""
    return _get(_login_key(login_id), None)


def op_consume_login_attempt(login_id: str, now: int) -> dict:
    return _op_update(_login_key(login_id), "SET used = :true, used_at = :now",
                      {":true": True, ":false": False, ":now": now},
                      condition="attribute_exists(PK) AND used = :false AND expires_at > :now")
