"""Support-assisted recovery on the lockout item: lifting a hard lock, and the pending MFA
reset. The reset lives on the item the verify step already reads and a success replaces, so a
successful second factor cancels it without another round trip (services.support)."""
from chalicelib.store.engine import _get, _op_delete, _op_update, _query
from chalicelib.store.keys import GSI1, _account_key, _lockout_key, _pending_reset_index_key, _pending_resets_due


def get_lockout(account_id: str, now: int) -> dict | None:
    return _get(_lockout_key(account_id), now)


def op_lift_lock(account_id: str, version: str) -> dict:
    """Forget the consecutive failures (a hard lock, a delay); a pending reset stays. Refused
    (ConditionFailed) when no failure is counted. A new `version`: a try counted before the
    lift cannot land after it (store/limits.py)."""
    return _op_update(_lockout_key(account_id), "SET version = :version REMOVE failures, locked_until, last_failure_at",
                      {":version": version}, condition="attribute_exists(failures)")


def op_schedule_reset(account_id: str, email: str, due_at: int, details: dict) -> dict:
    """Refused (ConditionFailed) while another reset is pending."""
    values = {":due": due_at, ":email": email, ":id": account_id, ":details": details,
              **{f":{k}": v for k, v in _pending_reset_index_key(account_id, due_at).items()}}
    return _op_update(_lockout_key(account_id),
                      "SET reset_due_at = :due, reset_email = :email, reset_account_id = :id, "
                      "reset_details = :details, GSI1PK = :GSI1PK, GSI1SK = :GSI1SK",
                      values, condition="attribute_not_exists(reset_due_at)")


def op_finish_reset(account_id: str, due_at: int) -> dict:
    """The lockout item goes with the reset it holds; refused when that reset was cancelled
    (or replaced) meanwhile."""
    return _op_delete(_lockout_key(account_id), condition="reset_due_at = :due", values={":due": due_at})


def op_clear_method_summaries(email: str) -> dict:
    """The account item lists no method: its next login is back in mandatory enrolment."""
    return _op_update(_account_key(email), "SET methods = :none, primary_methods = :zero",
                      {":none": {}, ":zero": 0}, condition="attribute_exists(PK)")


def list_due_resets(now: int) -> list[dict]:
    pk, upto = _pending_resets_due(now)
    return _query("GSI1PK = :pk AND GSI1SK <= :upto", {":pk": pk, ":upto": upto}, index=GSI1)
