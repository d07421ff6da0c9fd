"""Login attempts: what the password step hands to the second-factor step (tries, the
WebAuthn challenge, whether it was used).
"""
from chalicelib.clock import random_below
from chalicelib.store.engine import (
    ConditionFailed,
    _alive,
    _equalities,
    _get,
    _get_all,
    _op_update,
    _put,
    _removal,
    _still,
    _update,
)
from chalicelib.store.keys import _lockout_key, _login_index_key, _login_key, _method_key, _sso_enforced_copy_key
from chalicelib.store.sso import DOMAIN_CHECK_COPIES


def put_login_attempt(login_id: str, attempt: dict) -> None:
    """A new attempt, on its own (a plain write: half a transaction's write units)."""
    index = _login_index_key(attempt["account_id"], attempt["created_at"], login_id)
    _put(_login_key(login_id), {**attempt, **index}, condition="attribute_not_exists(PK)")


def get_login_try_items(login_id: str, account_id: str, method_ids: list[str], now: int,
                        domain: str) -> tuple[dict | None, dict[str, dict | None], dict | None, dict | None]:
    """What a verify try needs, in one consistent batch read: the attempt (expired ones
    included: the caller tells 410 from 404), the account's methods `method_ids` (by id; None
    for one missing or expired), its lockout item, and the email domain's SSO enforcement
    (one of its copies; None while the domain allows passwords)."""
    keys = [_login_key(login_id), _lockout_key(account_id), _sso_enforced_copy_key(domain, random_below(
        DOMAIN_CHECK_COPIES)), *(_method_key(account_id, m) for m in method_ids)]
    attempt, lockout, enforced, *found = _get_all(keys)
    return attempt, {m: _alive(item, now) for m, item in zip(method_ids, found)}, lockout, enforced


def op_count_login_try(login_id: str, try_id: str, account_id: str, now: int, max_tries: int,
                       browser_hash: str, taken: tuple[str, object] | None = None, takes: tuple[str, ...] = (),
                       requires: tuple[tuple[str, str], ...] = ()) -> dict:
    """Count a try before its proof is checked (a transaction part, beside the account's
    lockout try), so a burst of parallel guesses cannot get more than `max_tries` proofs
    checked. Holds only on the live, unused attempt of `account_id` that `browser_hash` began,
    with tries left; it removes the attributes `takes` names, only while `taken` (attribute,
    value as read; value None: absent) still holds, so the challenge the try checks is the
    one it took, and each answers one try; and it holds only if the attributes `requires`
    names have those values. The try's `try_id` joins the attempt's `try_ids`, once: the
    same write sent again (its answer lost) fails, and `try_ids` tells it was counted."""
    condition = ("attribute_exists(PK) AND used = :false AND expires_at > :now AND tries < :max "
                 "AND browser_hash = :browser AND account_id = :account")
    values = {":one": 1, ":now": now, ":max": max_tries, ":false": False, ":id": try_id, ":ids": {try_id},
              ":browser": browser_hash, ":account": account_id}
    required, names, required_values = _equalities(requires)
    condition += required + " AND NOT contains(try_ids, :id)"
    values.update(required_values)
    still, taken_names, taken_values = _still(taken)
    condition += still
    names.update(taken_names)
    values.update(taken_values)
    return _op_update(_login_key(login_id), "ADD tries :one, try_ids :ids" + _removal(takes), values,
                      condition=condition, names=names or None)


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
