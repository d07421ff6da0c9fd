"""Enrolling a verification method: begin (pending, expires) then confirm with a proof.

Confirming the first method from a restricted (enrolment-only) session replaces it with a
full session: the user has just shown the password and the new factor.
"""
from chalicelib import methods, store
from chalicelib.clock import is_id, now, now_s, random_id
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.services import sessions


def _account(session: dict) -> dict:
    return {"account_id": session["account_id"], "email": session["email"]}


def begin(session: dict, method_type: str, label: str | None) -> dict:
    impl = methods.get(method_type)
    n = now_s()
    method_id = random_id()
    label = label or impl.default_label
    enrollment = impl.begin_enrollment(_account(session), method_id, label)
    expires_at = n + get_settings().pending_method_seconds
    store.put_pending_method(session["account_id"], {
        "method_id": method_id,
        "type": method_type,
        "label": label,
        "status": "pending",
        "created_at": n,
        "expires_at": expires_at,
        **enrollment.record,
    })
    return {"method_id": method_id, "type": method_type, "label": label, "expires_at": expires_at,
            **enrollment.response}


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


def confirm(session: dict, method_id: str, proof: dict, client: dict) -> tuple[dict, sessions.NewSession | None]:
    n = now_s()
    account = _account(session)
    method = store.get_method(session["account_id"], method_id, n) if is_id(method_id) else None
    if method is None:
        raise ApiError(404, "method_not_found", "No such method, or its enrolment expired. Start again.")
    if method["status"] != "pending":
        raise ApiError(409, "already_confirmed", "This method is already active.")
    impl = methods.get(method["type"])
    verified = impl.complete_enrollment(account, method, proof, now())
    if verified is None:
        raise ApiError(401, "invalid_code", "The code is incorrect. Check the time on your device and try again.")

    updates = dict(verified.updates)
    if verified.counter:
        updates[verified.counter] = verified.counter_value
    ops = [
        store.op_activate_method(session["account_id"], method_id, n, updates),
        store.op_add_method_summary(session["email"], method_id, {"type": method["type"], "label": method["label"]}),
    ]
    upgraded = None
    if session["restricted"]:
        upgraded = sessions.new_session(session["account_id"], session["email"], sessions.WEB, client, mfa_at=n)
        ops += [store.op_delete_session(session["token_hash"]), store.op_put_session(upgraded.token_hash, upgraded.record)]
    try:
        store.transact(ops)
    except store.ConditionFailed:
        raise ApiError(409, "method_not_pending", "This enrolment expired or was already confirmed.") from None
    method.update(status="active", **updates)
    return public_view(method), upgraded
