"""Registry of verification methods: type -> implementation. Adding a method is its own
module plus one line here."""
from chalicelib.errors import ApiError
from chalicelib.methods.base import VerificationMethod
from chalicelib.methods.push import PushMethod
from chalicelib.methods.recovery_codes import RecoveryCodesMethod
from chalicelib.methods.sms import SmsMethod
from chalicelib.methods.totp import TotpMethod
from chalicelib.methods.webauthn import BuiltInMethod, SecurityKeyMethod

REGISTRY: dict[str, VerificationMethod] = {
    PushMethod.type: PushMethod(),
    TotpMethod.type: TotpMethod(),
    RecoveryCodesMethod.type: RecoveryCodesMethod(),
    SecurityKeyMethod.type: SecurityKeyMethod(),
    BuiltInMethod.type: BuiltInMethod(),
    SmsMethod.type: SmsMethod(),
}


def get(method_type: str) -> VerificationMethod:
    try:
        return REGISTRY[method_type]
    except KeyError:
        raise ApiError(400, "unsupported_method", f"Verification method '{method_type}' is not supported.") from None
