"""The interface every verification method implements.

Login, step-up and enrolment services call only this interface (through the registry in
`chalicelib.methods`) and never branch on a method's type.
"""
from dataclasses import dataclass, field


@dataclass
class Enrollment:
    record: dict          # attributes stored on the method item (secrets encrypted or hashed)
    response: dict        # what the user is shown once
    notice_context: dict = field(default_factory=dict)   # extra fields for the "added" email
    ops: list[dict] = field(default_factory=list)        # more writes with the pending method (store.op_*)


@dataclass
class Verified:
    """A proof that checked out, and how the store makes it one-time in the same write that
    accepts it: `counter`/`counter_value` name a monotonic attribute that must increase (a
    TOTP step); `consume` names a set attribute and the member to remove (a recovery code).
    `notice` is an email notice to send with the change, as (kind, context)."""
    counter: str | None = None
    counter_value: int | None = None
    consume: tuple[str, str] | None = None
    notice: tuple[str, dict] | None = None
    details: dict = field(default_factory=dict)   # for the audit event
    updates: dict = field(default_factory=dict)   # other attributes to store on the method
    ops: list[dict] = field(default_factory=list)  # more parts of the same transaction (store.op_*)


class Suspicious(Exception):
    """A proof that checked out cryptographically but shows the credential was copied (a
    WebAuthn signature count that went backwards): refused, the method is flagged with
    `updates` and the owner gets the notice (kind, context)."""

    def __init__(self, reason: str, message: str, updates: dict, notice: tuple[str, dict]):
        super().__init__(reason)
        self.reason, self.message, self.updates, self.notice = reason, message, updates, notice


class VerificationMethod:
    type: str = ""
    default_label: str = ""
    display_name: str = ""
    # False for a backup that must not be the account's last method (recovery codes).
    primary: bool = True
    # False when enrolment completes at once, without a proof (recovery codes).
    needs_confirmation: bool = True
    # True when an account has at most one; enrolling again replaces its record atomically.
    single_per_account: bool = False
    # The email notice sent when the method is added (or, if single, replaced).
    added_notice: str = "method_added"
    # A pending enrolment lives this long at most (None: the stage's default).
    enrollment_seconds: int | None = None
    # Attributes only the enrolment needs, dropped when the method becomes active.
    enrollment_only: tuple[str, ...] = ()
    # The 401 for a wrong proof at login or step-up, and at enrolment: (error code, message).
    refusal: tuple[str, str] = ("invalid_code", "The code is incorrect or was already used.")
    enrollment_refusal: tuple[str, str] = ("invalid_code", "The code is incorrect. Check the time on your device "
                                                           "and try again.")
    # The 409 when a write the enrolment adds (Verified.ops) does not hold.
    enrollment_conflict: tuple[str, str] = ("method_not_pending", "This enrolment expired or was already confirmed.")

    def begin_enrollment(self, account: dict, method_id: str, label: str) -> Enrollment:
        raise NotImplementedError

    def complete_enrollment(self, account: dict, method: dict, proof: dict, now: float) -> Verified | None:
        """Check the enrolment proof; None when it is wrong."""
        raise NotImplementedError

    def verify(self, account: dict, method: dict, proof: dict, now: float) -> Verified | None:
        """Check a login/step-up proof; None when it is wrong."""
        raise NotImplementedError

    def can_log_in(self, now: float) -> bool:
        """Whether the method counts as a way to log in (for the last-method rule)."""
        return self.primary

    def check_available(self, now: float) -> None:
        """Raise an ApiError when the method cannot be used at all any more (SMS after its
        sunset); checked before a try is counted."""

    def removal_ops(self, account_id: str, method: dict) -> list[dict]:
        """More parts of the transaction that removes the method (lookup items)."""
        return []

    def removed(self, method: dict) -> None:
        """After the removal committed: release what lives outside the table (best effort)."""

    def public_view(self, method: dict) -> dict:
        """Type-specific fields that are safe to show (never secrets)."""
        return {}
