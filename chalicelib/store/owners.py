"""Challenge state on its owner, a login attempt or a session: attributes a verification
method keeps there (a WebAuthn challenge, a push slot), written only while the owner is
live; ending an owner; and counting a try on it.
"""
from chalicelib.store.engine import _assignments, _equalities, _op_delete, _op_update, _update, transact
from chalicelib.records import OwnerKind
from chalicelib.store.keys import _login_key, _owner_key, _session_key


def _set_while_live(kind: str, now: int, fields: dict, max_tries: int | None) -> tuple[str, dict, str, dict]:
    """(expression, values, condition, names) setting `fields` on a live owner: an unused,
    unexpired login attempt (with tries left, when `max_tries` is given) or an unexpired
    session."""
    clauses, names, values = _assignments(fields, "o")
    condition = "attribute_exists(PK) AND expires_at > :now"
    values[":now"] = now
    if kind == OwnerKind.LOGIN:
        condition += " AND used = :false"
        values[":false"] = False
        if max_tries is not None:
            condition += " AND tries < :max"
            values[":max"] = max_tries
    return "SET " + ", ".join(clauses), values, condition, names


def op_set_on_owner(kind: str, owner_id: str, now: int, fields: dict, max_tries: int | None = None) -> dict:
    expression, values, condition, names = _set_while_live(kind, now, fields, max_tries)
    return _op_update(_owner_key(kind, owner_id), expression, values, condition=condition, names=names)


def set_on_owner(kind: str, owner_id: str, now: int, fields: dict) -> None:
    """As op_set_on_owner, on its own; ConditionFailed when the owner is no longer live."""
    expression, values, condition, names = _set_while_live(kind, now, fields, None)
    _update(_owner_key(kind, owner_id), expression, values, condition=condition, names=names)


def op_set_on_owner_if(kind: str, owner_id: str, fields: dict, requires: tuple[tuple[str, str], ...]) -> dict:
    """Set `fields` on the owner only while the attributes `requires` names have those values."""
    clauses, names, values = _assignments(fields, "o")
    required, required_names, required_values = _equalities(requires)
    return _op_update(_owner_key(kind, owner_id), "SET " + ", ".join(clauses), {**values, **required_values},
                      condition="attribute_exists(PK)" + required, names={**names, **required_names})


def op_end_login_attempt(login_id: str, fields: dict) -> dict:
    """Mark the attempt used, whatever its state, with `fields` saying why."""
    clauses, names, values = _assignments({**fields, "used": True}, "e")
    return _op_update(_login_key(login_id), "SET " + ", ".join(clauses), values, condition="attribute_exists(PK)",
                      names=names)


def op_end_session(token_hash: str) -> dict:
    """Delete the session if it still exists (ConditionFailed if it was already gone)."""
    return _op_delete(_session_key(token_hash), condition="attribute_exists(PK)")


def count_try(owner_try: dict, account_try: dict) -> None:
    """Count a second-factor try, before its proof is checked, on its owner (a login attempt
    or session: op_count_login_try, op_count_step_up_try) and on the account's lockout
    (op_reserve_second_factor_try): both or neither. ConditionFailed names the part refused
    (0: the owner's, 1: the lockout's)."""
    transact([owner_try, account_try])
