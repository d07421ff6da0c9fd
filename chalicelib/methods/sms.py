"""SMS codes: deprecated. As in the product, "available until November 2021 for users who
had 2FA enabled prior to January 2021": no one can add SMS (410 `sms_deprecated`); a legacy
SMS method, made by an import (ops/import_legacy_sms.py), sends codes and verifies them only
before the stage's `SMS_SUNSET` date, and is refused with 410 `sms_sunset` from then on.

A code (methods/sent_codes.py) is 6 digits, lives 5 minutes, is bound to the login attempt
or session it was sent for, and is stored only as a salted SHA-256; using it records its
serial number, so it works once. The phone number is sealed (ledger/secrets.py); only its
last digits are shown.
"""
from datetime import datetime, timezone

from chalicelib import sns
from chalicelib.clock import now
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.ledger import secrets
from chalicelib.methods import sent_codes
from chalicelib.methods.base import VerificationMethod

ALTERNATIVES = "a mobile authenticator app (push), an authenticator app (TOTP), a security key or a built-in authenticator"


def deprecated() -> ApiError:
    return ApiError(410, "sms_deprecated", "SMS can no longer be added: it is deprecated because text messages can "
                    f"be intercepted or redirected. Use {ALTERNATIVES} instead.")


def sunset_at() -> int:
    day = get_settings().sms_sunset
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def sunset() -> ApiError:
    return ApiError(410, "sms_sunset", f"SMS verification ended on {get_settings().sms_sunset.isoformat()}. Use "
                                       f"another method: {ALTERNATIVES}, or a recovery code.")


def require_before_sunset(now: float) -> None:
    if now >= sunset_at():
        raise sunset()


def masked(last_digits: str) -> str:
    return f"•••• {last_digits}"


def unavailable() -> ApiError:
    return ApiError(503, "sms_unavailable", "The text message could not be sent. Try again in a minute, or use "
                                            "another method.")


def _channel() -> sent_codes.Channel:
    s = get_settings()
    return sent_codes.Channel(SmsMethod.type, "sms", s.sms_code_seconds, s.sms_limit_per_hour,
                              SmsMethod.missing_message)


class SmsMethod(VerificationMethod):
    type = "sms"
    default_label = "Text message (SMS)"
    display_name = "text message (SMS, deprecated)"
    missing_message = "This account has no such SMS method."
    sealed_attribute = "phone_ciphertext"

    def begin_challenge(self, owner, method_id, client):
        """Text a code bound to this login attempt or session (it replaces an earlier one)."""
        require_before_sunset(now())
        settings = get_settings()

        def text(method: dict, code: str) -> None:
            try:
                sns.send_sms(phone_number(owner.account_id, method),
                             f"{settings.service_name} code: {code}. It expires in {settings.sms_code_seconds // 60} "
                             "minutes. Never share it.")
            except secrets.SecretUnavailable:
                raise   # the stage's data, not SNS: 503 secret_unavailable, logged where it did not open
            except Exception:   # noqa: BLE001 — the stored code is useless unsent: nobody knows it
                raise unavailable() from None

        method, expires_at = sent_codes.send(_channel(), owner, method_id, client, text)
        hint = masked(method["phone_last_digits"])
        return {"type": "sms", "sent_to": hint, "sent_to_hint": hint, "expires_at": expires_at}

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
        return sent_codes.check(_channel(), method, proof, now)

    def public_view(self, method):
        return {"phone": masked(method.get("phone_last_digits", "")), "deprecated": True,
                "usable_until": get_settings().sms_sunset.isoformat()}


def phone_number(account_id: str, method: dict) -> str:
    return secrets.open_method_secret(account_id, method, SmsMethod.sealed_attribute, SmsMethod.type).decode()
