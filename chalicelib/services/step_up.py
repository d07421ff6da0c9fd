"""Step-up: a fresh second factor on the current session, required before sensitive changes.

Wrong proofs count towards the account lockout, as at login, and a session gets
`step_up_max_failures` tries: then it is ended and the user logs in again with the password.

Round trips, after the session's own read (authentication): 1 batch read (the method, the
lockout) + 1 transaction counting the try on the session and on the lockout + 1 transaction
accepting the proof (services.verification).
"""
from chalicelib import errors, store
from chalicelib.clock import is_id, now_s, random_id
from chalicelib.config import get_settings
from chalicelib.records import Client, Proof
from chalicelib.services import challenges, verification


def window_seconds() -> int:
    return get_settings().step_up_seconds


def require_recent(session: dict) -> None:
    """Raise 403 step_up_required unless the session's last second factor is recent."""
    mfa_at = session.get("mfa_at")
    if session.get("restricted") or mfa_at is None or now_s() - mfa_at > window_seconds():
        raise errors.step_up_required(window_seconds())


def _local(session: dict) -> None:
    """Only a browser's session steps up (the routes say so too): a CLI token that could
    would turn a phished code into control of the account. A session won through an
    identity provider steps up there (services/sso), not with local methods, which its
    domain may no longer use."""
    if session.get("kind") != "web":
        raise errors.browser_session_required()
    if session.get("auth") == "sso":
        raise errors.sso_reauthentication_required()


def challenge(session: dict, method_id: str | None, client: Client, method_type: str | None = None) -> dict:
    """Begin the second factor's challenge on this session."""
    _local(session)
    return challenges.begin(challenges.session_owner(session), method_id, client, method_type)


def step_up(session: dict, proof: Proof, client: Client) -> tuple[int, dict]:
    """The new step-up time and the method used (see verification.check). A try that ends in
    an AWS failure is given back (verification.unchecked)."""
    _local(session)
    try_id = random_id()
    try:
        return _step_up(session, try_id, proof, client)
    except Exception as failed:
        if verification.unchecked(failed):
            # Also when the write that counted the try failed: only its answer may have been lost.
            verification.release_quietly(store.release_step_up_try, session["token_hash"], try_id)
        raise


def _step_up(session: dict, try_id: str, proof: Proof, client: Client) -> tuple[int, dict]:
    """The session as authenticated (read this request) holds the challenge state: the
    method and the lockout are read in one batch, then the try is counted on the session and
    on the lockout in one transaction (its condition: the challenge still the one read)."""
    s = get_settings()
    n = now_s()
    impl = challenges.reading(proof)
    impl.explain(session, proof)   # before a try is counted: a push not answered yet costs nothing
    token_hash = session["token_hash"]
    if session.get("step_up_tries", 0) >= s.step_up_max_failures:
        _too_many(session)
    owner = challenges.session_owner(session)
    method_id, checked = impl.locate(session, proof)
    method, lock = store.get_method_and_lockout(owner.account_id, method_id, n) if is_id(method_id or "") else (None, None)
    reservation = impl.reservation(proof)

    def refused() -> None:
        current = store.get_session(token_hash, n)
        if current and try_id in current.get("step_up_try_ids", ()):
            return   # this try's own write, sent again
        if current is None or current.get("step_up_tries", 0) >= s.step_up_max_failures:
            _too_many(session)
        raise errors.verification_in_progress()   # another try took its challenge

    used = verification.check(
        owner, method_id, method, lock, {**checked, "bound_to": owner.bound_to}, client, event="step_up",
        owner_try=store.op_count_step_up_try(token_hash, try_id, n, s.step_up_max_failures,
                                             challenges.taken(session, reservation), takes=reservation.takes),
        owner_refused=refused,
        guards=[(store.op_mark_step_up(token_hash, n), errors.unauthenticated())],
        tries_left=s.step_up_max_failures - session.get("step_up_tries", 0) - 1,
    )
    return n, used


def _too_many(session: dict) -> None:
    store.delete_session(session["token_hash"], session["account_id"])
    raise errors.too_many_step_up_failures()
