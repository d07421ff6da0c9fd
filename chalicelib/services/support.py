"""Support-assisted recovery, for the service's operators (`python -m ops.recovery`): an
account's status, lifting a hard lock, and resetting every verification method after a
waiting period.

A reset is scheduled on the account's lockout item (store/support.py). The verify step of a
login or step-up already reads that item and its success replaces it, so a successful second
factor during the wait cancels the reset at no extra round trip: verification adds the
`mfa_reset_cancelled` event and notice to the transaction it commits anyway (`lockout.cancelling`).
When the wait is over, `complete_due` (ops.recovery complete-resets, run on a schedule)
removes every method and ends every session; the next login is back in mandatory enrolment.
"""
from chalicelib import aws, errors, methods, store
from chalicelib.clock import now_s, random_id
from chalicelib.config import get_settings
from chalicelib.ledger.change import Change
from chalicelib.records import Client, MethodStatus, operator
from chalicelib.services import sessions

LOGIN_EVENTS = ("login_succeeded", "login_failed", "enrollment_session_started")


def operator_arn() -> str:
    """Who runs the command: the caller's identity from STS."""
    return aws.client("sts").get_caller_identity()["Arn"]


def _operator(arn: str) -> Client:
    return operator(f"support ({arn})")


def _account(email: str) -> dict:
    account = store.get_account(email, now_s())
    if account is None or not account["email_verified"]:
        raise errors.account_not_found(email)
    return account


# ---------------------------------------------------------------- status

def status(email: str, last_logins: int = 10) -> dict:
    """What support may see of an account: never a secret, a code or a key."""
    account = _account(email)
    n = now_s()
    account_id = account["account_id"]
    listed = sorted(store.list_methods(account_id, n), key=lambda m: (m.get("created_at", 0), m["method_id"]))
    lock = store.get_lockout(account_id, n) or {}
    failures = lock.get("failures", 0)
    events, _ = store.list_events(account_id, n, 100, None)
    logins = [{"kind": e["kind"], "at": e["at"], "ip": e.get("ip"), "user_agent": e.get("user_agent"),
               "method_type": (e.get("details") or {}).get("method_type")}
              for e in events if e["kind"] in LOGIN_EVENTS][:last_logins]
    requests = []
    if lock.get("reset_due_at"):
        requests.append({"kind": "mfa_reset", "due_at": lock["reset_due_at"], **lock.get("reset_details", {})})
    if account.get("reset_expires_at", 0) > n:
        requests.append({"kind": "password_reset_link", "expires_at": account["reset_expires_at"]})
    if account.get("email_change_token"):
        requests.append({"kind": "email_change"})
    return {
        "email": email,
        "account_id": account_id,
        "methods": [{"id": m["method_id"], "type": m["type"], "label": m.get("label"), "status": m.get("status"),
                     "created_at": m.get("created_at"), "last_used_at": m.get("last_used_at")} for m in listed],
        "lock": {"failures": failures, "locked_until": lock.get("locked_until"),
                 "hard_locked": failures >= get_settings().hard_lock_failures},
        "last_logins": logins,
        "open_requests": requests,
    }


# ---------------------------------------------------------------- unlock

def unlock(email: str, arn: str) -> None:
    """Forget the account's consecutive second-factor failures (a hard lock included)."""
    account = _account(email)
    lock = store.get_lockout(account["account_id"], now_s()) or {}
    Change(account["account_id"], email, _operator(arn)).add(
        store.op_lift_lock(account["account_id"], random_id()), on_fail=errors.not_locked(),
    ).audit("support_unlock", operator=arn, failures=lock.get("failures")).notify("support_unlock").commit()


# ---------------------------------------------------------------- reset of every method

def schedule_reset(email: str, reason: str, arn: str) -> int:
    """Schedule the removal of every method; returns when it is due."""
    if not reason.strip():
        raise errors.invalid_request("Give the reason for the reset (what support checked).")
    account = _account(email)
    n = now_s()
    due = n + get_settings().mfa_reset_wait_seconds
    details = {"operator": arn, "reason": reason.strip(), "scheduled_at": n}
    Change(account["account_id"], email, _operator(arn)).add(
        store.op_schedule_reset(account["account_id"], email, due, details), on_fail=errors.reset_pending(),
    ).audit("mfa_reset_scheduled", due_at=due, **details).notify("mfa_reset_scheduled", due=_utc(due)).commit()
    return due


def complete_due() -> list[tuple[str, str]]:
    """Complete every reset whose wait is over: [(email, "done" or why not)]."""
    results = []
    for pending in store.list_due_resets(now_s()):
        email = pending["reset_email"]
        try:
            complete(pending)
            results.append((email, "done"))
        except store.ConditionFailed:
            # Cancelled by a login since it was listed, or the account moved (email change).
            results.append((email, "skipped: cancelled, or the account's email changed"))
    return results


def complete(pending: dict) -> int:
    """Remove every method and end every session, in that order: a login that completes in
    between has a session that the second step ends. Returns how many sessions ended."""
    account_id, email, due = pending["reset_account_id"], pending["reset_email"], pending["reset_due_at"]
    operator_arn_ = pending.get("reset_details", {}).get("operator", "")
    n = now_s()
    listed = store.list_methods(account_id, n)
    change = Change(account_id, email, _operator(operator_arn_)).add(
        store.op_finish_reset(account_id, due), store.op_clear_method_summaries(email))
    for method in listed:
        change.add(store.op_delete_method(account_id, method["method_id"]))
        if method.get("status") == MethodStatus.ACTIVE:
            change.add(*methods.get(method["type"]).removal_ops(account_id, method))
    change.audit("mfa_reset_done", operator=operator_arn_, removed=len(listed)).notify("mfa_reset_done").commit()
    for method in listed:
        if method.get("status") == MethodStatus.ACTIVE:
            methods.get(method["type"]).removed(method)
    ended, _ = sessions.end_sessions(account_id)   # read strongly: the index may lag
    return ended


def _utc(at: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
