"""SMS codes: deprecated. As in the product, "available until November 2021 for users who
had 2FA enabled prior to January 2021": no one can add SMS (410 `sms_deprecated`); a legacy
SMS method, made by an import (ops/import_legacy_sms.py), sends codes and verifies them only
before the stage's `SMS_SUNSET` date, and is refused with 410 `sms_sunset` from then on.

A code is 6 digits, lives 5 minutes, is bound to the login attempt or session it was sent
for, and is stored only as a salted SHA-256; using it records its serial number, so it
works once. The phone number is encrypted with KMS; only its last digits are shown.
"""
import hashlib
import hmac
from datetime import datetime, timezone

from chalicelib import crypto, errors, sns, store
from chalicelib.clock import is_id, now, now_s, random_below, random_bytes
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.ledger.change import Change
from chalicelib.methods.base import VerificationMethod, Verified
from chalicelib.records import MethodStatus

DIGITS = 6
ALTERNATIVES = "a mobile authenticator app (push), an authenticator app (TOTP), a security key or a built-in authenticator"


def deprecated() -> ApiError:
    return ApiError(410, "sms_deprecated", "SMS can no longer be added: it is deprecated because text messages can "
                    f"be intercepted or redirected. Use {ALTERNATIVES} instead.")


def sunset_at() -> int:
    day = get_settings().sms_sunset
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def require_before_sunset(now: float) -> None:
    if now >= sunset_at():
        raise ApiError(410, "sms_sunset", f"SMS verification ended on {get_settings().sms_sunset.isoformat()}. "
                       f"Use another method: {ALTERNATIVES}, or a recovery code.")


def context(account_id: str, method_id: str) -> dict[str, str]:
    return {"account_id": account_id, "method_id": method_id, "purpose": "sms"}


def code_digest(salt: str, bound_to: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{bound_to}:{code}".encode()).hexdigest()


def new_code() -> str:
    return f"{random_below(10 ** DIGITS):0{DIGITS}d}"


def masked(last_digits: str) -> str:
    return f"•••• {last_digits}"


def unavailable() -> ApiError:
    return ApiError(503, "sms_unavailable", "The text message could not be sent. Try again in a minute, or use "
                                            "another method.")


class SmsMethod(VerificationMethod):
    type = "sms"
    default_label = "Text message (SMS)"
    display_name = "text message (SMS, deprecated)"
    missing_message = "This account has no such SMS method."

    def begin_challenge(self, owner, method_id, client):
        """Text a code bound to this login attempt or session (it replaces an earlier one)."""
        require_before_sunset(now())
        n = now_s()
        s = get_settings()
        method = store.get_method(owner.account_id, method_id, n) if is_id(method_id or "") else None
        if method is None or method["type"] != self.type or method["status"] != MethodStatus.ACTIVE:
            raise errors.method_not_found(self.missing_message)
        code, salt = new_code(), random_bytes(16).hex()
        expires_at = n + s.sms_code_seconds
        Change(owner.account_id, owner.email, client).limit(3600, ("sms-send", method_id, s.sms_limit_per_hour)).add(
            store.op_update_active_method(owner.account_id, method_id, {
                "sms_code_hash": code_digest(salt, owner.bound_to, code), "sms_code_salt": salt,
                "sms_code_expires_at": expires_at, "sms_bound_to": owner.bound_to,
                "sms_code_serial": method.get("sms_code_serial", 0) + 1,
            }), on_fail=errors.method_not_found(self.missing_message),
        ).audit("sms_code_sent", method_id=method_id).commit()
        try:
            sns.send_sms(phone_number(owner.account_id, method),
                         f"{s.service_name} code: {code}. It expires in {s.sms_code_seconds // 60} minutes. Never "
                         "share it.")
        except Exception:   # noqa: BLE001 — the stored code is useless unsent: nobody knows it
            raise unavailable() from None
        return {"type": "sms", "sent_to": masked(method["phone_last_digits"]), "sent_to_hint":
                masked(method["phone_last_digits"]), "expires_at": expires_at}

    def begin_enrollment(self, account, method_id, label):
        raise deprecated()

    def complete_enrollment(self, account, method, proof, now):
        raise deprecated()

    def can_log_in(self, now):
        return now < sunset_at()

    def check_available(self, now):
        require_before_sunset(now)

    def verify(self, account, method, proof, now):
        require_before_sunset(now)
        code = proof.get("code")
        if not isinstance(code, str) or not method.get("sms_code_hash"):
            return None
        code = code.strip().replace(" ", "")
        if (method.get("sms_code_expires_at", 0) <= now or method.get("sms_bound_to") != proof.get("bound_to")
                or method.get("sms_code_serial", 0) <= method.get("sms_used_serial", 0)):
            return None
        if not hmac.compare_digest(code_digest(method["sms_code_salt"], method["sms_bound_to"], code),
                                   method["sms_code_hash"]):
            return None
        return Verified(counter="sms_used_serial", counter_value=method["sms_code_serial"])

    def public_view(self, method):
        return {"phone": masked(method.get("phone_last_digits", "")), "deprecated": True,
                "usable_until": get_settings().sms_sunset.isoformat()}


def phone_number(account_id: str, method: dict) -> str:
    return crypto.decrypt_secret(method["phone_ciphertext"], context(account_id, method["method_id"])).decode()
