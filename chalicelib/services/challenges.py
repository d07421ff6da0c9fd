"""Challenges and proofs for every verification method, at login and at step-up alike.

Loads the owner (a login attempt, or the session stepping up) and dispatches through the
method registry: which challenge to begin, what the try's write takes and requires, which
method a proof names. Login and step-up call this; neither knows a method's type.
"""
from chalicelib import errors, methods, store
from chalicelib.clock import is_id, now_s
from chalicelib.methods.base import Reservation, VerificationMethod
from chalicelib.records import Client, MethodStatus, Owner, OwnerKind, Proof
from chalicelib.services import login_attempts


def attempt_owner(login_id: str, attempt: dict) -> Owner:
    return Owner(OwnerKind.LOGIN, login_id, attempt["account_id"], attempt["email"], f"login:{login_id}", attempt)


def login_owner(login_id: str, browser: str | None) -> Owner:
    """The live attempt of this browser; 404, 403 or 410 otherwise."""
    return attempt_owner(login_id, login_attempts.live(login_id, browser))


def session_owner(session: dict) -> Owner:
    return Owner(OwnerKind.SESSION, session["token_hash"], session["account_id"], session["email"],
                 f"session:{session['session_id']}", session)


def _method_type(owner: Owner, method_id: str) -> str:
    """The type of the account's active method (read: it may have been removed since the
    password step)."""
    method = store.get_method(owner.account_id, method_id, now_s()) if is_id(method_id) else None
    if method is None or method["status"] != MethodStatus.ACTIVE:
        raise errors.method_not_found()
    return method["type"]


def begin(owner: Owner, method_id: str | None, client: Client, method_type: str | None = None) -> dict:
    """Begin the challenge of the owner's method `method_id` (or, for the per-type routes,
    of `method_type`): the method's public answer, `{"type": ..., ...}`."""
    impl = methods.get(method_type or _method_type(owner, method_id or ""))
    if not impl.enabled():
        raise errors.method_disabled(impl.display_name)
    return impl.begin_challenge(owner, method_id, client)


def offered(method_type: str) -> bool:
    """Whether this stage offers the type (an optional method may be off)."""
    return methods.get(method_type).enabled()


def located_on_owner(method_type: str) -> bool:
    """Whether a proof for this type may leave its method unnamed: the owner's challenge
    names it (a push, a passkey)."""
    field = methods.get(method_type).proof_model.model_fields.get("method_id")
    return field is None or not field.is_required()


def reading(proof: Proof) -> VerificationMethod:
    """The method implementation that reads this kind of proof."""
    return methods.for_proof(proof)


def taken(slot: dict, reservation: Reservation) -> tuple[str, object] | None:
    """The challenge a try's write takes, as read from the owner's item: (the first attribute
    `takes` names, its value); the write holds only while it is still that."""
    return (reservation.takes[0], slot.get(reservation.takes[0])) if reservation.takes else None
