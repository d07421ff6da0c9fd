"""TOTP authenticator apps (RFC 6238: SHA-1, 6 digits, 30 s), as Google Authenticator and
similar apps read them. The secret is sealed (ledger/secrets.py); each accepted time step is
stored so that a code is never accepted twice."""
import base64
import hmac
from typing import Literal

from chalicelib.clock import random_bytes
from chalicelib.config import get_settings
from chalicelib.ledger import secrets
from chalicelib.methods.base import Enrollment, VerificationMethod, Verified
from chalicelib.records import EnrollmentRequest

PERIOD = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation
# Accept the previous and next step too, for clock drift and typing time.
WINDOW = 1


def _normalise(code) -> str | None:
    if not isinstance(code, str):
        return None
    code = code.replace(" ", "").replace("-", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    return code


def matching_step(secret_b32: str, code: str, now: float) -> int | None:
    """The time step within the window whose code equals `code`, compared in constant time."""
    import pyotp

    totp = pyotp.TOTP(secret_b32, digits=DIGITS, interval=PERIOD)
    current = int(now) // PERIOD
    found = None
    for step in range(max(current - WINDOW, 0), current + WINDOW + 1):
        if hmac.compare_digest(totp.at(step * PERIOD), code) and found is None:
            found = step
    return found


class TotpEnrollmentRequest(EnrollmentRequest):
    type: Literal["totp"]


class TotpMethod(VerificationMethod):
    enrollment_model = TotpEnrollmentRequest
    type = "totp"
    default_label = "Authenticator app"
    display_name = "authenticator app (TOTP)"
    sealed_attribute = "secret_ciphertext"

    def begin_enrollment(self, account, method_id, label):
        import pyotp
        import segno

        secret = base64.b32encode(random_bytes(SECRET_BYTES)).decode()
        settings = get_settings()
        uri = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
            name=account["email"], issuer_name=settings.service_name
        )
        ciphertext = secrets.seal(secret.encode(), secrets.method_context(account["account_id"], method_id, self.type))
        qr_svg = segno.make(uri, error="m").svg_inline(scale=4)
        return Enrollment(
            record={"secret_ciphertext": ciphertext},
            response={"secret": secret, "otpauth_uri": uri, "qr_svg": qr_svg},
        )

    def _check(self, account, method, proof, now) -> Verified | None:
        code = _normalise(proof.get("code"))
        if code is None:
            return None
        secret = secrets.open_method_secret(account["account_id"], method, self.sealed_attribute, self.type)
        step = matching_step(secret.decode(), code, now)
        if step is None or step <= method.get("last_step", -1):
            return None
        return Verified(counter="last_step", counter_value=step)

    def complete_enrollment(self, account, method, proof, now):
        return self._check(account, method, proof, now)

    def verify(self, account, method, proof, now):
        return self._check(account, method, proof, now)

    def public_view(self, method):
        return {"digits": DIGITS, "period": PERIOD, "algorithm": "SHA1"}
