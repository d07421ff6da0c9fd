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
import secrets
from datetime import datetime, timezone

from chalicelib import crypto
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.methods.base import VerificationMethod, Verified

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
    return f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"


def masked(last_digits: str) -> str:
    return f"•••• {last_digits}"


class SmsMethod(VerificationMethod):
    type = "sms"
    default_label = "Text message (SMS)"
    display_name = "text message (SMS, deprecated)"

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
        if (method.get("sms_code_expires_at", 0) <= now or method.get("sms_bound_to") != proof.get("context")
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
