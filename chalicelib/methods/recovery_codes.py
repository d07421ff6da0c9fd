"""One-time recovery codes, "a set of one-time use codes ... for backup purposes".

A set is 10 codes of 16 characters from a 31-letter alphabet without look-alikes
(79 bits each), shown once as xxxx-xxxx-xxxx-xxxx. Only HMAC-SHA256 values are stored, under
a per-set key that is itself sealed (ledger/secrets.py), so a table dump reveals no code. Using a
code removes its hash from the stored set in the write that accepts it.
"""
import hashlib
import hmac
from typing import Literal

from chalicelib.clock import random_bytes, random_string
from chalicelib.ledger import secrets
from chalicelib.methods.base import Enrollment, VerificationMethod, Verified
from chalicelib.records import EnrollmentRequest

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1
CODE_LENGTH = 16
GROUP = 4
COUNT = 10
LOW_WARNING = 2


def new_code() -> str:
    raw = random_string(ALPHABET, CODE_LENGTH)
    return "-".join(raw[i:i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalise(code) -> str | None:
    if not isinstance(code, str):
        return None
    code = code.strip().lower().replace("-", "").replace(" ", "")
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def _digest(key: bytes, normalised: str) -> str:
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


class RecoveryCodesRequest(EnrollmentRequest):
    """A new set of codes: the previous set stops working."""
    type: Literal["recovery_codes"]


class RecoveryCodesMethod(VerificationMethod):
    enrollment_model = RecoveryCodesRequest
    type = "recovery_codes"
    default_label = "Recovery codes"
    display_name = "recovery codes"
    sealed_attribute = "key_ciphertext"
    primary = False
    needs_confirmation = False
    single_per_account = True
    added_notice = "recovery_codes_generated"

    def begin_enrollment(self, account, method_id, label):
        key = random_bytes(32)
        codes = [new_code() for _ in range(COUNT)]
        return Enrollment(
            record={
                "key_ciphertext": secrets.seal(key, secrets.method_context(account["account_id"], method_id, self.type)),
                "code_hashes": {_digest(key, normalise(c)) for c in codes},
                "generated_count": COUNT,
            },
            response={"codes": codes},
            notice_context={"count": len(codes)},
        )

    def verify(self, account, method, proof, now):
        code = normalise(proof.get("code"))
        stored = method.get("code_hashes") or set()
        if code is None or not stored:
            return None
        key = secrets.open_method_secret(account["account_id"], method, self.sealed_attribute, self.type)
        digest = _digest(key, code)
        # Keyed digests: matching them by set lookup reveals nothing an attacker can use.
        if digest not in stored:
            return None
        remaining = len(stored) - 1
        warning = (" You are running out: generate a new set soon." if remaining <= LOW_WARNING else "")
        return Verified(consume=("code_hashes", digest),
                        notice=("recovery_code_used", {"remaining": remaining, "warning": warning}),
                        details={"remaining": remaining})

    def public_view(self, method):
        return {"remaining": len(method.get("code_hashes") or ()), "total": method.get("generated_count", COUNT)}
