"""Deprecated SMS: sending a code to a legacy SMS method (before the sunset), and importing
legacy SMS methods (the only way one exists; see methods/sms.py)."""
import re
from datetime import date

from chalicelib import crypto, sns, store
from chalicelib.clock import is_id, now, now_s, random_bytes, random_id
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.methods import sms as sms_method
from chalicelib.services import login_attempts, rate_limits
from chalicelib.services.change import Change

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _send(account_id: str, email: str, method_id: str, bound_to: str, client: dict) -> dict:
    sms_method.require_before_sunset(now())
    n = now_s()
    s = get_settings()
    method = store.get_method(account_id, method_id, n) if is_id(method_id or "") else None
    if method is None or method["type"] != sms_method.SmsMethod.type or method["status"] != "active":
        raise ApiError(404, "method_not_found", "This account has no such SMS method.")
    limits = rate_limits.counters(3600, ("sms-send", method_id, s.sms_limit_per_hour))
    code, salt = sms_method.new_code(), random_bytes(16).hex()
    expires_at = n + s.sms_code_seconds
    try:
        Change(account_id, email, client).add(*limits, store.op_update_active_method(account_id, method_id, {
            "sms_code_hash": sms_method.code_digest(salt, bound_to, code), "sms_code_salt": salt,
            "sms_code_expires_at": expires_at, "sms_bound_to": bound_to,
            "sms_code_serial": method.get("sms_code_serial", 0) + 1,
        })).audit("sms_code_sent", method_id=method_id).commit()
    except store.ConditionFailed as failed:
        if any(failed.failed(i) for i in range(len(limits))):
            raise rate_limits.limited(3600) from None
        raise ApiError(404, "method_not_found", "This account has no such SMS method.") from None
    try:
        sns.send_sms(sms_method.phone_number(account_id, method),
                     f"{s.service_name} code: {code}. It expires in {s.sms_code_seconds // 60} minutes. Never share it.")
    except Exception:   # noqa: BLE001 — the stored code is useless unsent: nobody knows it
        raise ApiError(503, "sms_unavailable", "The text message could not be sent. Try again in a minute, or use "
                                               "another method.") from None
    return {"sent_to": sms_method.masked(method["phone_last_digits"]), "expires_at": expires_at}


def send_for_login(login_id: str, method_id: str, client: dict, browser: str | None) -> dict:
    attempt = login_attempts.live(login_id, browser)
    return _send(attempt["account_id"], attempt["email"], method_id, f"login:{login_id}", client)


def send_for_step_up(session: dict, method_id: str, client: dict) -> dict:
    return _send(session["account_id"], session["email"], method_id, f"session:{session['session_id']}", client)


def import_legacy(email: str, phone: str, enabled_on: date, label: str | None = None) -> str:
    """Attach a legacy SMS method to an existing, verified account (a migration from a
    system where it was enabled on `enabled_on`, before the deprecation); returns the method id."""
    cutoff = get_settings().sms_legacy_cutoff
    if enabled_on >= cutoff:
        raise ApiError(400, "sms_deprecated", f"SMS is kept only for users who had it before {cutoff.isoformat()}: "
                                              "this one should pick another method.")
    if not E164.match(phone or ""):
        raise ApiError(400, "invalid_phone", "The phone number must be in E.164 form, such as +14155550123.")
    sms_method.require_before_sunset(now())   # an SMS method imported after the sunset could never work
    n = now_s()
    account = store.get_account(email, n)
    if account is None or not account["email_verified"]:
        raise ApiError(404, "account_not_found", f"No verified account for {email}.")
    method_id = random_id()
    label = label or sms_method.SmsMethod.default_label
    Change(account["account_id"], email, {"ip": "", "user_agent": "import"}).add(
        store.op_put_active_method(account["account_id"], {
            "method_id": method_id, "type": sms_method.SmsMethod.type, "label": label, "status": "active",
            "created_at": n, "activated_at": n, "phone_last_digits": phone[-4:],
            "legacy_enabled_on": enabled_on.isoformat(),
            "phone_ciphertext": crypto.encrypt_secret(phone.encode(), sms_method.context(account["account_id"], method_id)),
        }),
        store.op_add_method_summary(email, method_id, {"type": sms_method.SmsMethod.type, "label": label}, True),
    ).audit("method_imported", method_id=method_id, method_type=sms_method.SmsMethod.type).commit()
    return method_id
