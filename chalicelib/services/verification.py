"""Checking a second factor, shared by the login verify step and step-up: the per-account
lockout, the method's own check through the registry, and one transaction that accepts
the proof once, resets the lockout (cancelling a pending support reset of every method,
services.support), records the audit event and queues any notice."""
from chalicelib import aws, crypto, errors, methods, observability, store
from chalicelib.clock import now, now_s, random_id
from chalicelib.errors import ApiError
from chalicelib.ledger import audit
from chalicelib.ledger.change import Change
from chalicelib.methods.base import Suspicious
from chalicelib.records import Client, MethodStatus, Owner
from chalicelib.services import lockout


def check(owner: Owner, method_id: str, method: dict | None, lock: dict | None, proof: dict, client: Client, *,
          event: str, owner_try: dict, owner_refused, guards: list[tuple[dict, ApiError]], tries_left: int,
          extra_ops: list[dict] = ()) -> dict:
    """Returns what was used, `{id, type, **details}` (a recovery code adds `remaining`).
    `method` and `lock` are the method and the lockout item as the caller read them (with
    the login attempt, or for the session); `owner_try` the transaction part that counts the
    try on the owner, `owner_refused` what a refusal of it means (see lockout.reserve).
    `guards` are transaction parts that must hold (the login attempt unused, the session
    alive), each with the error its failure raises. A wrong proof counts towards the lockout
    and raises 401 with `tries_left`; a try that ended in a dependency's failure does not
    (`unchecked`)."""
    n = now_s()
    account = {"account_id": owner.account_id, "email": owner.email}
    observability.note_account(owner.account_id)
    try:
        lockout.check(lock, n)
    except ApiError as refused:
        store.put_event(account["account_id"], _failure_event(client, event, refused.code, method_id))
        _count(event, "failed", method["type"] if method else "unknown")
        raise
    if method is None or method.get("status") != MethodStatus.ACTIVE:
        raise errors.method_not_found()
    impl = methods.get(method["type"])
    if not impl.enabled():
        raise errors.method_disabled(impl.display_name)
    impl.check_available(now())
    counted = lockout.reserve(account["account_id"], lock, n, owner_try, owner_refused)
    try:
        used = _accept(account, method, proof, client, event, guards, extra_ops, lock)
    except Exception as refused:
        if unchecked(refused):
            # A dependency failed (KMS, the final write) or the secret did not open: nothing was
            # learnt about the proof, so the try is given back and no failure is recorded against the person.
            release_quietly(lockout.release, account["account_id"], counted)
            raise
        # Counted as a failure by reserve(): whatever ended the try, a lock it set is reported.
        lockout.after_failure(account, client, counted.count)
        reason = refused.code if isinstance(refused, ApiError) else "error"
        store.put_event(account["account_id"], _failure_event(client, event, reason, method["method_id"]))
        if reason == methods.get(method["type"]).refusal[0]:
            refused.extra["attempts_remaining"] = max(tries_left, 0)
        _count(event, "failed", method["type"])
        raise
    _count(event, "succeeded", method["type"])
    return used


def _count(event: str, outcome: str, method_type: str) -> None:
    """Logins are counted by method (step-up is not a login)."""
    if event == "login":
        observability.login(outcome, method_type)


def unchecked(error: Exception) -> bool:
    """Whether a try ended without an answer about its proof: an AWS call failed (KMS, the
    final write), the method's stored secret did not open (the stage's data is wrong, and
    nothing was compared), or the final write stayed busy with others. A wrong proof is
    refused before anything is written, so only a proof that checked out reaches the write
    that can be busy: giving such a try back hands a guesser nothing. An outage while a
    refusal was being recorded (the refusal is its context) is not one: that proof was checked."""
    return ((aws.is_outage(error) or isinstance(error, store.Busy | crypto.SecretUnreadable))
            and not isinstance(error.__context__, ApiError))


def release_quietly(release, *args) -> None:
    """Give back an owner's try whose proof could not be checked (`unchecked`): best effort,
    as the same outage may refuse this write too, and then the try stays counted (the safe
    side). The caller raises the failure that ended the try."""
    try:
        release(*args)
    except Exception:  # noqa: BLE001 - the failure that ended the try is what is answered
        pass


def _accept(account: dict, method: dict, proof: dict, client: Client, event: str,
            guards: list[tuple[dict, ApiError]], extra_ops: list[dict], lock: dict | None) -> dict:
    method_id = method["method_id"]
    n = now_s()
    impl = methods.get(method["type"])
    try:
        verified = impl.verify(account, method, proof, now())
    except Suspicious as suspicious:
        kind, context = suspicious.notice
        Change(account["account_id"], account["email"], client).add(
            store.op_update_active_method(account["account_id"], method_id, suspicious.updates),
        ).audit(kind, method_id=method_id, **{**context, "method_type": method["type"]}).notify(kind, **context).commit()
        raise errors.refused(suspicious.reason, suspicious.message) from None
    if verified is not None:
        change = Change(account["account_id"], account["email"], client)
        for guard, error in guards:
            change.add(guard, on_fail=error)
        change.add(
            store.op_use_method(account["account_id"], method_id, n, verified.counter, verified.counter_value,
                                verified.consume, verified.updates),
            store.op_reset_lockout(account["account_id"], random_id()),
            *verified.ops,
            *extra_ops,
        ).audit(f"{event}_succeeded", method_id=method_id, method_type=method["type"], **verified.details)
        lockout.cancelling(change, lock)   # replacing the lockout item cancels a pending MFA reset
        if verified.notice:
            kind, context = verified.notice
            change.notify(kind, **context).audit(kind, method_id=method_id, **verified.details)
        # Else the method's condition failed: the same proof was accepted concurrently.
        change.commit(otherwise=errors.refused(*impl.refusal))
        return {"id": method_id, "type": method["type"], **verified.details}
    raise errors.refused(*impl.refusal)


def _failure_event(client: Client, event: str, reason: str, method_id: str) -> dict:
    return audit.event(f"{event}_failed", client, reason=reason, method_id=method_id)
