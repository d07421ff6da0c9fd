"""Deprecated SMS: importing legacy SMS methods, the only way one exists (methods/sms.py
sends and checks their codes until the sunset)."""
import re
from datetime import date

from chalicelib import errors, store
from chalicelib.clock import now, now_s, random_id
from chalicelib.config import get_settings
from chalicelib.ledger import secrets
from chalicelib.ledger.change import Change
from chalicelib.methods import sms as sms_method
from chalicelib.records import MethodStatus, operator

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def import_legacy(email: str, phone: str, enabled_on: date, label: str | None = None) -> str:
    """Attach a legacy SMS method to an existing, verified account (a migration from a
    system where it was enabled on `enabled_on`, before the deprecation); returns the method id."""
    cutoff = get_settings().sms_legacy_cutoff
    if enabled_on >= cutoff:
        raise errors.sms_not_legacy(cutoff.isoformat())
    if not E164.match(phone or ""):
        raise errors.invalid_phone()
    sms_method.require_before_sunset(now())   # an SMS method imported after the sunset could never work
    n = now_s()
    account = store.get_account(email, n)
    if account is None or not account["email_verified"]:
        raise errors.account_not_found(email)
    method_id = random_id()
    label = label or sms_method.SmsMethod.default_label
    Change(account["account_id"], email, operator("import")).add(
        store.op_put_active_method(account["account_id"], {
            "method_id": method_id, "type": sms_method.SmsMethod.type, "label": label, "status": MethodStatus.ACTIVE,
            "created_at": n, "activated_at": n, "phone_last_digits": phone[-4:],
            "legacy_enabled_on": enabled_on.isoformat(),
            "phone_ciphertext": secrets.seal(phone.encode(), secrets.method_context(account["account_id"], method_id,
                                                                                    sms_method.SmsMethod.type)),
        }),
        store.op_add_method_summary(email, method_id, {"type": sms_method.SmsMethod.type, "label": label}, True),
    ).audit("method_imported", method_id=method_id, method_type=sms_method.SmsMethod.type).commit()
    return method_id
