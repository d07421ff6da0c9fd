"""Second-factor lockout per account, kept in DynamoDB (Lambda containers come and go).

After `lockout_threshold` consecutive failures (across login attempts) each further try
waits an increasing delay after the last failure; at `hard_lock_failures` the account is
locked until support unlocks it (NIST 800-63B 5.2.2: at most 100 consecutive failures).
A success resets the count. The delay is derived from the count on read, so a failure is
one atomic increment.
"""
from chalicelib import store
from chalicelib.clock import now_s
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.services.change import Change


def delay_for(failures: int) -> int:
    s = get_settings()
    if failures < s.lockout_threshold:
        return 0
    return min(s.lockout_base_delay_seconds * 2 ** (failures - s.lockout_threshold), s.lockout_max_delay_seconds)


def check(lockout: dict | None, now: int) -> None:
    if not lockout:
        return
    s = get_settings()
    failures = lockout.get("failures", 0)
    if failures >= s.hard_lock_failures:
        raise ApiError(403, "account_locked",
                       "Too many failed verifications: this account is locked. Contact support to unlock it.")
    retry_at = lockout.get("last_failure_at", 0) + delay_for(failures)
    if failures >= s.lockout_threshold and now < retry_at:
        wait = retry_at - now
        raise ApiError(429, "mfa_locked", f"Too many failed verifications. Try again in {wait} seconds.",
                       headers={"Retry-After": str(wait)}, extra={"retry_after": wait})


def record_failure(account: dict, client: dict) -> int:
    """Count a failure; when it locks the account, record it and email the owner."""
    s = get_settings()
    failures = store.record_second_factor_failure(account["account_id"], now_s())
    if failures in (s.lockout_threshold, s.hard_lock_failures):
        change = Change(account["account_id"], account["email"], client)
        if failures == s.lockout_threshold:
            delay = delay_for(failures)
            change.audit("lockout", failures=failures, delay_seconds=delay)
            change.notify("mfa_locked", failures=failures, delay=_human(delay))
        else:
            change.audit("hard_lock", failures=failures)
            change.notify("mfa_hard_locked", failures=failures)
        change.commit()
    return failures


def _human(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour(s)"
    if seconds % 60 == 0:
        return f"{seconds // 60} minute(s)"
    return f"{seconds} seconds"
