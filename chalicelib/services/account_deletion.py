"""Deleting an account (DELETE /v1/account, step-up and {"confirm": true}), resumably.

1. One transaction makes the account unable to log in and marks it deleting: the account
   item goes (the email is free at once), a tombstone (ACCOUNT#<id>/DELETION) records the
   deletion in progress, the `account_deleted` audit event and the final notice are written,
   and as many of the account's sessions and methods (each with its removal_ops: WebAuthn
   lookups, the push device) as fit in the table's 100 items of one transaction: methods
   with lookup items first, then sessions (any beyond that room, other than the asking one,
   are ended just before it), then the other methods. Usually that is everything.
2. `finish(account_id)` deletes what is left, each step idempotent: methods with their
   removal_ops (packed into transactions), sessions listed again, the account's other items,
   what GSI1 lists under it (login attempts, CLI logins), its push devices' nonces and
   challenges, its email tokens; then the tombstone becomes
   `deleted`, kept (like the audit events) for the events' retention.

A crash after 1 leaves nothing that can log in: the password step finds no account, a login
attempt or CLI login approved before cannot complete (both check the account item), and the
sessions and devices are gone with it. `finish` again (ops/account_deletion.py, or
`resume_all`) completes it.
"""
from chalicelib import errors, methods, store
from chalicelib.clock import now_s
from chalicelib.ledger import audit
from chalicelib.ledger.change import Change
from chalicelib.records import Client
from chalicelib.services import step_up

MAX_ITEMS = 100          # TransactWriteItems' limit
_HEADER_ITEMS = 4        # account item, tombstone, audit event, notice
OPERATOR = Client(user_agent="account deletion (resumed)")


def delete(session: dict, confirmed: bool, client: Client) -> None:
    if not confirmed:
        raise errors.deletion_confirmation_required()
    step_up.require_recent(session)
    account_id = session["account_id"]
    if store.get_tombstone(account_id) is None:
        account = store.get_account(session["email"], now_s())
        if account is None or account["account_id"] != account_id:
            raise errors.unauthenticated()
        begin(account, client, keep=session["token_hash"])
    finish(account_id, client)


def _method_group(account_id: str, method: dict) -> list[dict]:
    impl = methods.get(method["type"])
    return [store.op_delete_method(account_id, method["method_id"]), *impl.removal_ops(account_id, method)]


def _released(found: list[dict]) -> None:
    for method in found:
        methods.get(method["type"]).removed(method)


def begin(account: dict, client: Client, keep: str | None = None) -> None:
    """The first transaction: afterwards nothing of the account can log in. `keep` is the
    session asking (it stays until this transaction, so that a refused one can be retried)."""
    account_id, email = account["account_id"], account["email"]
    n = now_s()
    sessions = sorted(store.list_sessions(account_id, n), key=lambda x: x["token_hash"] != keep)
    found = store.list_methods(account_id, n)
    token_hashes = sorted({account[a] for a in ("verify_token", "email_change_token", "reset_token_hash")
                           if account.get(a)})
    change = Change(account_id, email, client).add(
        store.op_delete_account_item(email, account_id), on_fail=errors.try_again(),
    ).add(store.op_put_tombstone(account_id, {
        "account_id": account_id, "email": email, "started_at": n, "token_hashes": token_hashes,
        "device_ids": sorted({m["device_id"] for m in found if m.get("device_id")}),
    }), on_fail=errors.try_again()).audit(
        "account_deleted", methods=len(found), sessions=len(sessions), status="deleting",
    ).notify("account_deleted", retention_days=audit.RETENTION_SECONDS // 86400)
    # Methods with lookup items first (a paired device signs requests without the account
    # item), then the sessions; sessions beyond the transaction's room end before it (other
    # than the asking one): ending them early is harmless if the deletion is then refused.
    groups = sorted(((m, _method_group(account_id, m)) for m in found), key=lambda mg: -len(mg[1]))
    with_lookups = sum(len(g) for _, g in groups if len(g) > 1)
    room = MAX_ITEMS - _HEADER_ITEMS
    fits = max(1, room - with_lookups)
    store.delete_sessions([x["token_hash"] for x in sessions[fits:]])
    change.add(*[store.op_delete_session(x["token_hash"]) for x in sessions[:fits]])
    room -= len(sessions[:fits])
    included = []
    for method, group in groups:
        if len(group) <= room:
            change.add(*group)
            room -= len(group)
            included.append(method)
    change.commit(otherwise=errors.try_again())
    _released(included)


def _pack(groups: list[list[dict]]) -> list[list[int]]:
    """Indexes of groups, packed into transactions of at most MAX_ITEMS parts."""
    batches, current, size = [], [], 0
    for i, group in enumerate(groups):
        if current and size + len(group) > MAX_ITEMS:
            batches.append(current)
            current, size = [], 0
        current.append(i)
        size += len(group)
    return batches + ([current] if current else [])


def _remove_methods(account_id: str) -> None:
    found = store.list_methods(account_id, 0)
    groups = [_method_group(account_id, m) for m in found]
    for batch in _pack(groups):
        # Released first: the account is going either way, and a retry releases again.
        _released([found[i] for i in batch])
        try:
            store.transact([op for i in batch for op in groups[i]])
        except store.ConditionFailed:
            # A lookup item already gone: each on its own; what still fails is swept below.
            for i in batch:
                try:
                    store.transact(groups[i])
                except store.ConditionFailed:
                    pass


def finish(account_id: str, client: Client = OPERATOR) -> bool:
    """Delete what is left of an account whose deletion began; False when none did."""
    tombstone = store.get_tombstone(account_id)
    if tombstone is None:
        return False
    if tombstone["status"] == "deleted":
        return True
    _remove_methods(account_id)
    store.delete_sessions([s["token_hash"] for s in store.list_sessions(account_id, 0)])
    leftovers = store.account_leftovers(account_id) + store.indexed_items(account_id)
    for device_id in tombstone.get("device_ids", []):
        leftovers += store.device_items(device_id)
    leftovers += store.email_token_items(tombstone.get("token_hashes", []))
    store.delete_items(leftovers)
    n = now_s()
    try:
        Change(account_id, tombstone["email"], client).add(
            store.op_finish_tombstone(account_id, n, n + audit.RETENTION_SECONDS),
        ).audit("account_deletion_finished", status="deleted").commit()
    except store.ConditionFailed:
        pass   # finished by a concurrent run
    return True


def resume_all(client: Client = OPERATOR) -> list[str]:
    """Finish every deletion left in progress; the account ids."""
    done = []
    for tombstone in store.deletions_in_progress():
        finish(tombstone["account_id"], client)
        done.append(tombstone["account_id"])
    return done
