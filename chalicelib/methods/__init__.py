"""Registry of verification methods: type -> implementation. Adding a method is its own
module plus one line here."""
from chalicelib import errors
from chalicelib.methods.base import VerificationMethod
from chalicelib.methods.email_code import EmailCodeMethod
from chalicelib.methods.push import PushMethod
from chalicelib.methods.recovery_codes import RecoveryCodesMethod
from chalicelib.methods.sms import SmsMethod
from chalicelib.methods.totp import TotpMethod
from chalicelib.methods.webauthn import BuiltInMethod, SecurityKeyMethod
from chalicelib.records import Proof

REGISTRY: dict[str, VerificationMethod] = {
    PushMethod.type: PushMethod(),
    TotpMethod.type: TotpMethod(),
    RecoveryCodesMethod.type: RecoveryCodesMethod(),
    SecurityKeyMethod.type: SecurityKeyMethod(),
    BuiltInMethod.type: BuiltInMethod(),
    SmsMethod.type: SmsMethod(),
    EmailCodeMethod.type: EmailCodeMethod(),
}


def _check_shared_proofs() -> None:
    """Methods that share a proof model are read through the first of them (for_proof):
    they must read it alike, with the same reservation, explanation and location."""
    for model in {impl.proof_model for impl in REGISTRY.values()}:
        readers = {(type(i).reservation, type(i).explain, type(i).locate) for i in REGISTRY.values()
                   if i.proof_model is model}
        if len(readers) != 1:
            raise TypeError(f"methods sharing {model.__name__} read it differently: give each its own proof model")


_check_shared_proofs()


def get(method_type: str) -> VerificationMethod:
    try:
        return REGISTRY[method_type]
    except KeyError:
        raise errors.unsupported_method(method_type) from None


def proof_models() -> list[type[Proof]]:
    """The bodies a verify request may carry, one per kind of proof, in registry order."""
    return list(dict.fromkeys(impl.proof_model for impl in REGISTRY.values()))


def enrollment_models() -> list:
    """The bodies that begin an enrolment at POST /v1/account/methods, one per model."""
    return list(dict.fromkeys(impl.enrollment_model for impl in REGISTRY.values() if impl.enrollment_model))


def for_proof(proof: Proof) -> VerificationMethod:
    """A method that reads this kind of proof (the methods that share a proof model read
    it alike)."""
    return next(impl for impl in REGISTRY.values() if type(proof) is impl.proof_model)
