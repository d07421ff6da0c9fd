"""Second-factor lockout per account, kept in DynamoDB (Lambda containers come and go).

After `lockout_threshold` consecutive failures (across login attempts) each further try
waits an increasing delay after the last failure; at `hard_lock_failures` the account is
locked until support unlocks it (NIST 800-63B 5.2.2: at most 100 consecutive failures).
A success resets the count. Each try is counted before its proof is checked, one try at a
time per account (a conditional write on the item's version, read with the login attempt or
with the method), so parallel guesses cannot overshoot; that write and the owner's own count
(the login attempt's or the session's) are one transaction, one round trip. A try whose
proof could not be checked (an outage) is given back (`release`).
"""
from typing import NamedTuple

from chalicelib import aws, errors, observability, store
from chalicelib.clock import random_id
from chalicelib.config import get_settings
from chalicelib.ledger.change import Change
from chalicelib.records import Client


def delay_for(failures: int) -> int:
    s = get_settings()
    if failures < s.lockout_threshold:
        return 0
    return min(s.lockout_base_delay_seconds * 2 ** (failures - s.lockout_threshold), s.lockout_max_delay_seconds)


def check(lockout: dict | None, now: int) -> None:
    if not lockout:
        return
    s = get_settings()
    if lockout.get("failures", 0) >= s.hard_lock_failures:
        raise errors.account_locked()
    wait = lockout.get("locked_until", 0) - now
    if wait > 0:
        raise errors.mfa_locked(wait)


class Try(NamedTuple):
    """A try reserve() counted: `count` failures with it, `try_id` its write's version, and
    the lockout item as it was read before (what release() puts back)."""
    count: int
    try_id: str
    read: dict | None


def reserve(account_id: str, lockout: dict | None, now: int, owner_try: dict, owner_refused) -> Try:
    """Count this try before its proof is checked: on the lockout item as read and, in the
    same transaction, on its owner (`owner_try`, the login attempt's or session's own count).
    A second try racing for the same count is refused (429 try_again). When the owner's part
    is refused, `owner_refused()` raises why, or returns when this try was counted already
    (the same transaction sent again, its first answer lost)."""
    count = (lockout.get("failures", 0) if lockout else 0) + 1
    locked_until = now + delay_for(count) if count >= get_settings().lockout_threshold else None
    counted = Try(count, random_id(), lockout)
    try:
        store.count_try(owner_try, store.op_reserve_second_factor_try(account_id, lockout, counted.try_id, now,
                                                                      locked_until))
    except store.ConditionFailed as failed:
        if failed.failed(0):
            owner_refused()
        if failed.failed(1):
            raise errors.verification_in_progress() from None
    except Exception as failed:
        if aws.is_outage(failed):
            # Only its answer may have been lost: give back what it may have counted.
            try:
                release(account_id, counted)
            except Exception:  # noqa: BLE001 - the outage that ended the try is what is answered
                pass
        raise
    return counted


def release(account_id: str, counted: Try) -> bool:
    """The try's proof could not be checked (a dependency failed): it does not count against
    the person. Only while no later try was counted on top of it (then it stays counted,
    the safe side); False then."""
    return store.release_second_factor_try(account_id, counted.try_id, counted.read, random_id())


def after_failure(account: dict, client: Client, count: int) -> None:
    """The try counted by reserve() failed: when it locked the account, record it and email
    the owner."""
    s = get_settings()
    if count not in (s.lockout_threshold, s.hard_lock_failures):
        return
    change = Change(account["account_id"], account["email"], client)
    if count == s.lockout_threshold:
        delay = delay_for(count)
        change.audit("lockout", failures=count, delay_seconds=delay)
        observability.metric("Lockouts", Kind="delay")
        change.notify("mfa_locked", failures=count, delay=_human(delay))
    else:
        change.audit("hard_lock", failures=count)
        observability.metric("Lockouts", Kind="hard_lock")
        change.notify("mfa_hard_locked", failures=count)
    change.commit()


def _human(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour(s)"
    if seconds % 60 == 0:
        return f"{seconds // 60} minute(s)"
    return f"{seconds} seconds"


def cancelling(change: Change, lock: dict | None) -> Change:
    """For a successful second factor's transaction (which replaces the lockout item, and so
    the pending support reset on it, services/support.py): record the cancellation and tell
    the owner."""
    if lock and lock.get("reset_due_at"):
        change.audit("mfa_reset_cancelled", due_at=lock["reset_due_at"],
                     operator=lock.get("reset_details", {}).get("operator")).notify("mfa_reset_cancelled")
    return change
