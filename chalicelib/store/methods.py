"""Verification methods (pending, then active: the secret material, counters, enrolment
tries) and the WebAuthn credential lookup items that keep a credential on one account.
"""
from chalicelib.records import MethodStatus
from chalicelib.store.engine import (
    _alive,
    _assignments,
    _get,
    _op_delete,
    _op_put,
    _op_update,
    _query,
    _replace_value,
    _scan,
    _update,
)
from chalicelib.store.keys import _credential_key, _method_ids, _method_key, _methods_of

# ---------------------------------------------------------------- methods

def op_put_pending_method(account_id: str, method: dict) -> dict:
    return _op_put(_method_key(account_id, method["method_id"]), method, condition="attribute_not_exists(PK)")


def reserve_enrollment_try(account_id: str, method_id: str, now: int, max_tries: int) -> int:
    """Count a try at confirming a pending method (a push pairing's phrase) before it is
    checked, answering how many tries are now used; ConditionFailed once `max_tries` were
    used, or when it is not pending."""
    updated = _update(_method_key(account_id, method_id), "ADD confirm_tries :one",
            {":one": 1, ":now": now, ":max": max_tries, ":pending": MethodStatus.PENDING},
            condition="#status = :pending AND expires_at > :now AND "
                      "(attribute_not_exists(confirm_tries) OR confirm_tries < :max)",
            names={"#status": "status"}, returns="UPDATED_NEW")
    return int(updated["confirm_tries"])


def get_method(account_id: str, method_id: str, now: int) -> dict | None:
    return _get(_method_key(account_id, method_id), now)


def list_methods(account_id: str, now: int) -> list[dict]:
    pk, prefix = _methods_of(account_id)
    items = _query("PK = :pk AND begins_with(SK, :prefix)", {":pk": pk, ":prefix": prefix})
    return [m for m in (_alive(i, now) for i in items) if m]


def op_put_active_method(account_id: str, method: dict) -> dict:
    return _op_put(_method_key(account_id, method["method_id"]), method, condition="attribute_not_exists(PK)")


def op_replace_method_record(account_id: str, method_id: str, record: dict, now: int,
                             replaces: str | None, generation: str) -> dict:
    """Overwrite a method's secret material in one write (e.g. a new set of recovery codes),
    only if it is still the generation `replaces` that was read: of two concurrent
    replacements one wins and the other fails, rather than both answering with codes."""
    clauses, names, values = _assignments(record, "r")
    sets = ", ".join(clauses)
    condition = "#status = :active AND "
    condition += "generation = :old" if replaces else "attribute_not_exists(generation)"
    values.update({":now": now, ":active": MethodStatus.ACTIVE, ":new": generation})
    if replaces:
        values[":old"] = replaces
    return _op_update(_method_key(account_id, method_id), f"SET {sets}, replaced_at = :now, generation = :new",
                      values, condition=condition, names={**names, "#status": "status"})


def op_rename_method(account_id: str, method_id: str, label: str) -> dict:
    return _op_update(_method_key(account_id, method_id), "SET label = :l", {":l": label, ":active": MethodStatus.ACTIVE},
                      condition="#status = :active", names={"#status": "status"})


def op_delete_method(account_id: str, method_id: str) -> dict:
    return _op_delete(_method_key(account_id, method_id), condition="attribute_exists(PK)")


def op_activate_method(account_id: str, method_id: str, now: int, updates: dict,
                       removes: tuple[str, ...] = ()) -> dict:
    """Pending -> active, only while the pending enrolment is unexpired. `updates` are set on
    the method and `removes` (enrolment-only attributes, such as a challenge) dropped."""
    clauses, names, values = _assignments(updates)
    sets = "".join(f", {clause}" for clause in clauses)
    names.update({f"#x{i}": name for i, name in enumerate(removes)})
    dropped = "".join(f", #x{i}" for i in range(len(removes)))
    return _op_update(
        _method_key(account_id, method_id),
        f"SET #status = :active, activated_at = :now{sets} REMOVE expires_at{dropped}",
        {":active": MethodStatus.ACTIVE, ":pending": MethodStatus.PENDING, ":now": now, **values},
        condition="#status = :pending AND expires_at > :now",
        names={"#status": "status", **names},
    )


def op_use_method(account_id: str, method_id: str, now: int, counter: str | None = None,
                  counter_value: int | None = None, consume: tuple[str, str] | None = None,
                  updates: dict | None = None) -> dict:
    """Record a successful verification, one-time by the write's own condition:
    - `counter`: only when the new value is greater than the stored one (a TOTP step, a
      WebAuthn signature count);
    - `consume`: (set attribute, member) removes the member, only while it is present
      (a recovery code).
    Either way two concurrent requests cannot both succeed. `updates` are other attributes
    the verification refreshed (a passkey's backup state)."""
    expression = "SET last_used_at = :now"
    values = {":now": now, ":active": MethodStatus.ACTIVE}
    condition = "#status = :active"
    clauses, extra_names, extra_values = _assignments(updates or {})
    expression += "".join(f", {clause}" for clause in clauses)
    names = {"#status": "status", **extra_names}
    values.update(extra_values)
    if counter:
        expression += ", #c = :c"
        values[":c"] = counter_value
        names["#c"] = counter
        condition += " AND (attribute_not_exists(#c) OR #c < :c)"
    if consume:
        expression += " DELETE #set :members"
        values[":members"] = {consume[1]}
        values[":member"] = consume[1]
        names["#set"] = consume[0]
        condition += " AND contains(#set, :member)"
    return _op_update(_method_key(account_id, method_id), expression, values, condition=condition, names=names)


def op_update_active_method(account_id: str, method_id: str, updates: dict) -> dict:
    """Set attributes on an active method (a WebAuthn credential marked suspicious, an SMS code sent)."""
    clauses, names, values = _assignments(updates)
    return _op_update(_method_key(account_id, method_id), f"SET {', '.join(clauses)}", {**values, ":active": MethodStatus.ACTIVE},
                      condition="#status = :active", names={**names, "#status": "status"})


def scan_methods_with(attributes: tuple[str, ...]):
    """Every method, on any account, that has one of `attributes` (operators' commands: a
    whole-table scan): (account id, method)."""
    names = {f"#a{i}": a for i, a in enumerate(attributes)}
    condition = "begins_with(SK, :method) AND (" + " OR ".join(f"attribute_exists({n})" for n in names) + ")"
    for pk, sk, method in _scan(condition, {":method": "METHOD#"}, names):
        ids = _method_ids(pk, sk)
        if ids:
            yield ids[0], method


def replace_method_secret(account_id: str, method_id: str, attribute: str, old: bytes, new: bytes) -> bool:
    """The method's secret `attribute` re-encrypted, only while it is still `old` (a method
    replaced or removed meanwhile keeps its change); whether it was written."""
    return _replace_value(_method_key(account_id, method_id), attribute, old, new)


# ---------------------------------------------------------------- WebAuthn credential lookup

def op_put_credential(credential_id: bytes, account_id: str, method_id: str) -> dict:
    """Fails when the credential is registered already, on any account."""
    return _op_put(_credential_key(credential_id), {"account_id": account_id, "method_id": method_id},
                   condition="attribute_not_exists(PK)")


def op_delete_credential(credential_id: bytes, account_id: str) -> dict:
    return _op_delete(_credential_key(credential_id), condition="account_id = :a", values={":a": account_id})
