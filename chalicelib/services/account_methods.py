"""Managing an account's verification methods: enrol (begin, confirm), list, rename, remove.

Every change needs a recent second factor (step-up), except that a restricted session of an
account still in mandatory enrolment may add its first method. Each change is one
transaction with its audit event and email notice.
"""
import hashlib

from chalicelib import errors, methods, store
from chalicelib.clock import is_id, now, now_s, random_id
from chalicelib.config import get_settings
from chalicelib.ledger.change import Change
from chalicelib.records import Client, MethodStatus
from chalicelib.services import sessions, step_up
from chalicelib.services.sso import connections as sso_connections


def _account(session: dict) -> dict:
    return {"account_id": session["account_id"], "email": session["email"]}


def _load_account(session: dict) -> dict:
    account = store.get_account(session["email"], now_s())
    if account is None or account["account_id"] != session["account_id"]:
        raise errors.unauthenticated()
    return account


def _require_may_add(session: dict, account: dict) -> None:
    if session["restricted"]:
        if account.get("primary_methods", 0) > 0:
            raise errors.already_enrolled()
        return
    step_up.require_recent(session)


def public_view(method: dict) -> dict:
    impl = methods.get(method["type"])
    return {
        "id": method["method_id"],
        "type": method["type"],
        "label": method["label"],
        "status": method["status"],
        "created_at": method["created_at"],
        "last_used_at": method.get("last_used_at"),
        **impl.public_view(method),
    }


def begin(session: dict, method_type: str, label: str | None, client: Client) -> dict:
    impl = methods.get(method_type)
    if not impl.enabled():
        raise errors.method_disabled(impl.display_name)
    account = _load_account(session)
    if session["restricted"] and not impl.primary:
        raise errors.mfa_enrollment_required("Set up a verification method first.")
    _require_may_add(session, account)
    if not impl.needs_confirmation:
        return _enrol_at_once(session, account, impl, label, client)

    n = now_s()
    method_id = random_id()
    label = label or impl.default_label
    enrollment = impl.begin_enrollment(_account(session), method_id, label)
    expires_at = n + min(get_settings().pending_method_seconds, impl.enrollment_seconds or 10 ** 9)
    store.transact([store.op_put_pending_method(session["account_id"], {
        "method_id": method_id,
        "type": method_type,
        "label": label,
        "status": MethodStatus.PENDING,
        "created_at": n,
        "expires_at": expires_at,
        **enrollment.record,
    }), *enrollment.ops])
    if enrollment.deliver:
        enrollment.deliver()
    return {"method_id": method_id, "type": method_type, "label": label, "expires_at": expires_at,
            **enrollment.response}


def _single_method_id(account_id: str, method_type: str) -> str:
    return hashlib.sha256(f"{account_id}:{method_type}".encode()).hexdigest()[:32]


def _enrol_at_once(session: dict, account: dict, impl, label: str | None, client: Client) -> dict:
    """Methods without a proof step (recovery codes): active at once; for a single-per-account
    type, enrolling again replaces the old record in one write, so no old secret survives."""
    n = now_s()
    existing = next((mid for mid, m in account.get("methods", {}).items() if m["type"] == impl.type), None)
    replacing = impl.single_per_account and existing is not None
    # One id per account for a single-per-account type, so two concurrent first enrolments
    # collide on the same item instead of leaving two live sets.
    method_id = existing if replacing else (
        _single_method_id(session["account_id"], impl.type) if impl.single_per_account else random_id())
    label = label or impl.default_label
    enrollment = impl.begin_enrollment(_account(session), method_id, label)
    change = Change(session["account_id"], session["email"], client)
    if replacing:
        current = store.get_method(session["account_id"], method_id, n) or {}
        change.add(store.op_replace_method_record(session["account_id"], method_id, enrollment.record, n,
                                                  replaces=current.get("generation"), generation=random_id()))
    else:
        change.add(
            store.op_put_active_method(session["account_id"], {
                "method_id": method_id, "type": impl.type, "label": label, "status": MethodStatus.ACTIVE,
                "created_at": n, "activated_at": n, "generation": random_id(), **enrollment.record}),
            store.op_add_method_summary(session["email"], method_id, {"type": impl.type, "label": label}, impl.primary,
                                        account_id=session["account_id"]),
        )
    change.audit(impl.added_notice, method_id=method_id, method_type=impl.type, replaced=replacing or None)
    change.notify(impl.added_notice, method_type=impl.display_name, label=label, **enrollment.notice_context)
    try:
        change.commit()
    except store.ConditionFailed:
        raise errors.methods_changed() from None
    return {"method_id": method_id, "type": impl.type, "label": label, **enrollment.response,
            "other_sessions": other_sessions(session)}


def confirm(session: dict, method_id: str | None, proof: dict, client: Client, *, label: str | None = None,
            types: set[str] | None = None) -> tuple[dict, sessions.NewSession | None]:
    """Activate a pending method with its proof. `types` limits which kinds of enrolment the
    caller completes; `label` renames the method as it becomes active."""
    n = now_s()
    account = _load_account(session)
    method = store.get_method(session["account_id"], method_id, n) if method_id and is_id(method_id) else None
    if method is None or (types is not None and method["type"] not in types):
        raise errors.enrollment_not_found()
    if method["status"] != MethodStatus.PENDING:
        raise errors.already_confirmed()
    _require_may_add(session, account)
    impl = methods.get(method["type"])
    if not impl.enabled():
        raise errors.method_disabled(impl.display_name)
    if impl.enrollment_max_tries:
        try:   # counted before the proof is checked, so guesses cannot outrun the limit
            store.reserve_enrollment_try(session["account_id"], method_id, n, impl.enrollment_max_tries)
        except store.ConditionFailed:
            raise errors.enrollment_expired() from None
    verified = impl.complete_enrollment(_account(session), method, proof, now())
    if verified is None:
        raise errors.refused(*impl.enrollment_refusal)

    label = label or method["label"]
    updates = {**verified.updates, "label": label}
    if verified.counter:
        updates[verified.counter] = verified.counter_value
    # A method no longer pending wins over a conflict of the method's own writes (a
    # credential registered meanwhile), which wins over the rest.
    change = Change(session["account_id"], session["email"], client).add(
        store.op_activate_method(session["account_id"], method_id, n, updates, removes=impl.enrollment_only),
        on_fail=errors.method_not_pending(),
    ).add(*verified.ops, on_fail=errors.conflict(impl.enrollment_conflict)).add(
        store.op_add_method_summary(session["email"], method_id, {"type": method["type"], "label": label},
                                    impl.primary, first_only=session["restricted"], account_id=session["account_id"]),
    ).audit("method_added", method_id=method_id, method_type=method["type"]).notify(
        "method_added", method_type=impl.display_name, label=label)
    upgraded = None
    if session["restricted"]:
        upgraded = sessions.new_session(session["account_id"], session["email"], sessions.WEB, client, mfa_at=n)
        change.add(store.op_delete_session(session["token_hash"]),
                   *store.ops_put_session(upgraded.token_hash, upgraded.record))
        # The restricted session was won by a password: once the domain enforces SSO, it
        # becomes no full session.
        change.add(store.op_domain_allows_passwords(sso_connections.domain_of(session["email"])),
                   on_fail=errors.sso_required())
    change.commit(otherwise=errors.method_not_pending())
    for name in impl.enrollment_only:
        method.pop(name, None)
    method.update(status=MethodStatus.ACTIVE, **updates)
    return public_view(method), upgraded


def list_methods(session: dict, count_sessions: bool = False) -> dict:
    """With `other_sessions` after a change (`count_sessions`), or while a method is flagged
    as possibly copied: the person may want to end the other sessions."""
    active = [m for m in store.list_methods(session["account_id"], now_s()) if m["status"] == MethodStatus.ACTIVE]
    active.sort(key=lambda m: (m["created_at"], m["method_id"]))
    primary = [m for m in active if methods.get(m["type"]).primary]
    codes_left = sum(len(m.get("code_hashes") or ()) for m in active if not methods.get(m["type"]).primary)
    count = count_sessions or any(m.get("suspicious_at") for m in active)
    return {
        "methods": [public_view(m) for m in active],
        "backup_recommended": len(primary) <= 1 or codes_left == 0,
        "other_sessions": other_sessions(session) if count and "token_hash" in session else None,
    }


def other_sessions(session: dict, upgraded: sessions.NewSession | None = None) -> int:
    """How many other sessions and CLI sessions the account has, after a change of its
    factors (ASVS 3.3.3): the answer offers to end them. `upgraded` replaced `session`."""
    current = {**session, "token_hash": upgraded.token_hash} if upgraded else session
    return sessions.count_others(current)


def _active_method(session: dict, method_id: str) -> dict:
    method = store.get_method(session["account_id"], method_id, now_s()) if is_id(method_id) else None
    if method is None or method["status"] != MethodStatus.ACTIVE:
        raise errors.no_such_method()
    return method


def rename(session: dict, method_id: str, label: str, client: Client) -> dict:
    step_up.require_recent(session)
    method = _active_method(session, method_id)
    impl = methods.get(method["type"])
    try:
        Change(session["account_id"], session["email"], client).add(
            store.op_rename_method(session["account_id"], method_id, label),
            store.op_rename_method_summary(session["email"], method_id, label),
        ).audit("method_renamed", method_id=method_id, method_type=method["type"], old_label=method["label"],
                label=label).notify(
            "method_renamed", method_type=impl.display_name, old_label=method["label"], label=label).commit()
    except store.ConditionFailed:
        raise errors.no_such_method() from None
    method["label"] = label
    return public_view(method)


def remove(session: dict, method_id: str, confirmed: bool, client: Client) -> dict:
    if not confirmed:
        raise errors.confirmation_required()
    step_up.require_recent(session)
    remove_method(session, method_id, client)
    return list_methods(session, count_sessions=True)


def remove_method(session: dict, method_id: str, client: Client) -> dict:
    """Remove an active method (the caller has checked the person's right to), never the
    last one that can log in."""
    method = _active_method(session, method_id)
    impl = methods.get(method["type"])
    last_method = errors.last_method()
    # Counted by what can still log in: a legacy SMS method past its sunset cannot.
    n = now()
    usable = sum(1 for m in _load_account(session).get("methods", {}).values()
                 if methods.get(m["type"]).can_log_in(n))
    if impl.can_log_in(n) and usable <= 1:
        raise last_method
    # The summary's condition keeps a primary method from being the last one removed.
    Change(session["account_id"], session["email"], client).add(
        store.op_remove_method_summary(session["email"], method_id, impl.primary),
        on_fail=last_method if impl.primary else None,
    ).add(
        store.op_delete_method(session["account_id"], method_id),
        *impl.removal_ops(session["account_id"], method),
    ).audit("method_removed", method_id=method_id, method_type=method["type"], label=method["label"]).notify(
        "method_removed", method_type=impl.display_name, label=method["label"]).commit(otherwise=errors.no_such_method())
    impl.removed(method)
    return list_methods(session)
