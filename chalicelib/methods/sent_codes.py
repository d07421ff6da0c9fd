"""Codes the service sends for a login attempt or a step-up: a text (SMS) or an email.

A code is 6 digits, lives a few minutes, is bound to the login attempt or session it was
sent for, and is stored on its method only as a salted SHA-256 with a serial number; using
it records that serial, so it works once, and a newer code replaces it. Sending is limited
per method and hour. The attributes are `<prefix>_code_hash`, `_code_salt`,
`_code_expires_at`, `_bound_to`, `_code_serial` and `<prefix>_used_serial`.
"""
import hashlib
import hmac
from collections.abc import Callable
from typing import NamedTuple

from chalicelib import errors, store
from chalicelib.clock import is_id, now_s, random_below, random_bytes
from chalicelib.ledger.change import Change
from chalicelib.methods.base import Verified
from chalicelib.records import Client, MethodStatus, Owner

DIGITS = 6


class Channel(NamedTuple):
    """How one method sends its codes."""
    method_type: str
    prefix: str                 # of the method's attributes, e.g. "sms"
    seconds: int                # how long a code lives
    limit_per_hour: int         # codes sent per method and hour
    missing_message: str        # the 404 for a method of another type, or none


def new_code() -> str:
    return f"{random_below(10 ** DIGITS):0{DIGITS}d}"


def code_digest(salt: str, bound_to: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{bound_to}:{code}".encode()).hexdigest()


def issue(channel: Channel, bound_to: str, serial: int = 0) -> tuple[str, dict, int]:
    """A new code bound to `bound_to`: the code, the method attributes that keep it (the
    code's serial follows `serial`, the last one issued), and its expiry."""
    p = channel.prefix
    code, salt = new_code(), random_bytes(16).hex()
    expires_at = now_s() + channel.seconds
    return code, {f"{p}_code_hash": code_digest(salt, bound_to, code), f"{p}_code_salt": salt,
                  f"{p}_code_expires_at": expires_at, f"{p}_bound_to": bound_to, f"{p}_code_serial": serial + 1}, expires_at


def send(channel: Channel, owner: Owner, method_id: str, client: Client, deliver: Callable[[dict, str], None]) -> tuple[dict, int]:
    """Store a new code for the owner's method and hand it to `deliver(method, code)` once
    stored (a code nobody received is useless, so a failed delivery needs no undo); the
    method and the code's expiry."""
    n = now_s()
    p = channel.prefix
    method = store.get_method(owner.account_id, method_id, n) if is_id(method_id or "") else None
    if method is None or method["type"] != channel.method_type or method["status"] != MethodStatus.ACTIVE:
        raise errors.method_not_found(channel.missing_message)
    code, attributes, expires_at = issue(channel, owner.bound_to, method.get(f"{p}_code_serial", 0))
    Change(owner.account_id, owner.email, client).limit(3600, (f"{p}-send", method_id, channel.limit_per_hour)).add(
        store.op_update_active_method(owner.account_id, method_id, attributes),
        on_fail=errors.method_not_found(channel.missing_message),
    ).audit(f"{p}_code_sent", method_id=method_id).commit()
    deliver(method, code)
    return method, expires_at


def check(channel: Channel, method: dict, proof: dict, now: float) -> Verified | None:
    """The last code sent, unexpired, unused, for the login attempt or session the proof
    is made in; None otherwise."""
    p = channel.prefix
    code = proof.get("code")
    if not isinstance(code, str) or not method.get(f"{p}_code_hash"):
        return None
    code = code.strip().replace(" ", "")
    if (method.get(f"{p}_code_expires_at", 0) <= now or method.get(f"{p}_bound_to") != proof.get("bound_to")
            or method.get(f"{p}_code_serial", 0) <= method.get(f"{p}_used_serial", 0)):
        return None
    if not hmac.compare_digest(code_digest(method[f"{p}_code_salt"], method[f"{p}_bound_to"], code),
                               method[f"{p}_code_hash"]):
        return None
    return Verified(counter=f"{p}_used_serial", counter_value=method[f"{p}_code_serial"])
