"""The interface every verification method implements.

Login, step-up and enrolment services call only this interface (through the registry in
`chalicelib.methods`) and never branch on a method's type.
"""
from dataclasses import dataclass, field


@dataclass
class Enrollment:
    record: dict          # attributes stored on the pending method item (secrets encrypted)
    response: dict        # what the user is shown once to finish enrolment


@dataclass
class Verified:
    """A proof that checked out. `counter`/`counter_value` name a monotonic attribute of the
    method that the store must see increase in the same write that accepts the proof:
    that is how a one-time proof stays one-time under concurrent requests."""
    counter: str | None = None
    counter_value: int | None = None
    updates: dict = field(default_factory=dict)


class VerificationMethod:
    type: str = ""
    default_label: str = ""
    # Whether the method can complete a login on its own (recovery codes will say no to
    # counting as the "last method", for instance).
    can_log_in: bool = True

    def begin_enrollment(self, account: dict, method_id: str, label: str) -> Enrollment:
        raise NotImplementedError

    def complete_enrollment(self, account: dict, method: dict, proof: dict, now: float) -> Verified | None:
        """Check the enrolment proof; None when it is wrong."""
        raise NotImplementedError

    def verify(self, account: dict, method: dict, proof: dict, now: float) -> Verified | None:
        """Check a login/step-up proof; None when it is wrong."""
        raise NotImplementedError

    def public_view(self, method: dict) -> dict:
        """Type-specific fields that are safe to show (never secrets)."""
        return {}
