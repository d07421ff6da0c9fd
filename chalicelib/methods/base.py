"""The interface every verification method implements, for the whole ceremony.

Login, step-up and enrolment services call only this interface (through the registry in
`chalicelib.methods`) and never branch on a method's type. At login and at step-up alike a
method, for an owner (a login attempt or a session, `records.Owner`):
1. begins a challenge (`begin_challenge`): nothing for a code, request options for WebAuthn,
   a push for push, a text for SMS;
2. declares the proof the verify request carries (`proof_model`), what the write that
   counts the try does with the owner's challenge state (`reservation`), why a proof cannot
   be checked yet (`explain`), and which method and what `verify` checks (`locate`);
3. verifies (`verify`) and shows itself (`public_view`); enrolment has its own pair.
"""
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from chalicelib.config import get_settings
from chalicelib.records import Client, Code, EnrollmentRequest, Id, Owner, Proof


class CodeProof(Proof):
    """A code typed from an app, a text, an email or a printed list, for the method it names."""
    method_id: Id
    code: Code


# NamedTuples (immutable; no dataclass methods compiled at import, see records.Client).
class Reservation(NamedTuple):
    """What the write that counts a try does with the owner's challenge state: `takes`
    attributes away (each challenge answers exactly one try; the first names the challenge:
    the write holds only while it still has the value the try read) and, at login,
    `requires` attribute values to hold (else nothing is counted)."""
    takes: tuple[str, ...] = ()
    requires: tuple[tuple[str, str], ...] = ()


NOTHING: Mapping = MappingProxyType({})


class Enrollment(NamedTuple):
    record: dict          # attributes stored on the method item (secrets encrypted or hashed)
    response: dict        # what the user is shown once
    notice_context: Mapping = NOTHING   # extra fields for the "added" email
    ops: Sequence[dict] = ()            # more writes with the pending method (store.op_*)
    deliver: Callable[[], None] | None = None   # after those writes: send what the proof needs


class Verified(NamedTuple):
    """A proof that checked out, and how the store makes it one-time in the same write that
    accepts it: `counter`/`counter_value` name a monotonic attribute that must increase (a
    TOTP step); `consume` names a set attribute and the member to remove (a recovery code).
    `notice` is an email notice to send with the change, as (kind, context)."""
    counter: str | None = None
    counter_value: int | None = None
    consume: tuple[str, str] | None = None
    notice: tuple[str, dict] | None = None
    details: Mapping = NOTHING    # for the audit event
    updates: Mapping = NOTHING    # other attributes to store on the method
    ops: Sequence[dict] = ()      # more parts of the same transaction (store.op_*)


class Suspicious(Exception):
    """A proof that checked out cryptographically but shows the credential was copied (a
    WebAuthn signature count that went backwards): refused, the method is flagged with
    `updates` and the owner gets the notice (kind, context)."""

    def __init__(self, reason: str, message: str, updates: dict, notice: tuple[str, dict]):
        super().__init__(reason)
        self.reason, self.message, self.updates, self.notice = reason, message, updates, notice


class VerificationMethod:
    type: str = ""
    # The body that proves this method at login and step-up.
    proof_model: "type[Proof]" = CodeProof
    # The body that begins its enrolment at POST /v1/account/methods (None: not there).
    enrollment_model: "type[EnrollmentRequest] | None" = None
    # True for a method a stage must name in OPTIONAL_METHODS to offer it.
    optional: bool = False
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
    # Wrong proofs a pending enrolment takes before it ends (None: no limit, e.g. TOTP, whose
    # secret only the person has; a code the service sends can be guessed).
    enrollment_max_tries: int | None = None
    # A pending enrolment lives this long at most (None: the stage's default).
    enrollment_seconds: int | None = None
    # The attribute holding the method's secret, sealed (ledger/secrets.py) under the context
    # naming its account, its method and this type (None: nothing secret is stored).
    sealed_attribute: str | None = None
    # Attributes only the enrolment needs, dropped when the method becomes active.
    enrollment_only: tuple[str, ...] = ()
    # The 401 for a wrong proof at login or step-up, and at enrolment: (error code, message).
    refusal: tuple[str, str] = ("invalid_code", "The code is incorrect or was already used.")
    enrollment_refusal: tuple[str, str] = ("invalid_code", "The code is incorrect. Check the time on your device "
                                                           "and try again.")
    # The 409 when a write the enrolment adds (Verified.ops) does not hold.
    enrollment_conflict: tuple[str, str] = ("method_not_pending", "This enrolment expired or was already confirmed.")


    def begin_challenge(self, owner: Owner, method_id: str, client: Client) -> dict:
        """Start what the proof will answer; the public answer, `{"type": ..., ...}`."""
        return {"type": "none"}

    def reservation(self, proof: Proof) -> Reservation:
        return Reservation()

    def explain(self, slot: dict, proof: Proof) -> None:
        """Raise why `proof` cannot be checked against the owner's item `slot` yet (a push
        not answered): asked before a try is counted, so asking early costs nothing."""

    def locate(self, slot: dict, proof: Proof) -> tuple[str, dict]:
        """The method `proof` answers for, and what `verify` checks, from the owner's item
        as read before the try's write (which holds only while the challenge is still the
        one read, `Reservation`)."""
        return proof.method_id, proof.model_dump(exclude={"method_id"})

    def begin_enrollment(self, account: dict, method_id: str, label: str) -> Enrollment:
        raise NotImplementedError

    def complete_enrollment(self, account: dict, method: dict, proof: dict, now: float) -> Verified | None:
        """Check the enrolment proof; None when it is wrong."""
        raise NotImplementedError

    def verify(self, account: dict, method: dict, proof: dict, now: float) -> Verified | None:
        """Check a login/step-up proof; None when it is wrong."""
        raise NotImplementedError

    def enabled(self) -> bool:
        """Whether this stage offers the method (to add, to challenge, to verify)."""
        return not self.optional or self.type in get_settings().optional_methods

    def can_log_in(self, now: float) -> bool:
        """Whether the method counts as a way to log in (for the last-method rule)."""
        return self.primary

    def check_available(self, now: float) -> None:
        """Raise an error when the method cannot be used at all any more (SMS after its
        sunset); checked before a try is counted."""

    def removal_ops(self, account_id: str, method: dict) -> list[dict]:
        """More parts of the transaction that removes the method (lookup items)."""
        return []

    def removed(self, method: dict) -> None:
        """After the removal committed: release what lives outside the table (best effort)."""

    def public_view(self, method: dict) -> dict:
        """Type-specific fields that are safe to show (never secrets)."""
        return {}
