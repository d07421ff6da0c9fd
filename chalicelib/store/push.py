"""Push approval: pairing codes, paired devices and their request nonces, challenges, and
the account's pending pushes (and the last hour's requests). The push slot a challenge
takes on its owner is written through store/owners.py.
"""
from chalicelib.records import MethodStatus, PushStatus
from chalicelib.store.engine import (
    ConditionFailed,
    _assignments,
    _db,
    _get,
    _get_two,
    _is_condition_failure,
    _op_delete,
    _op_put,
    _op_update,
    _query,
    _table,
    _to_attr_values,
    _to_item,
    _update,
)
from chalicelib.store.keys import (
    _challenge_key,
    _challenges_of,
    _device_key,
    _method_key,
    _nonce_key,
    _pairing_key,
    _push_pending_key,
)

# ---------------------------------------------------------------- pairing

def op_put_pairing(code_hash: str, data: dict) -> dict:
    return _op_put(_pairing_key(code_hash), data, condition="attribute_not_exists(PK)")


def get_pairing(code_hash: str, now: int) -> dict | None:
    return _get(_pairing_key(code_hash), now)


def op_consume_pairing(code_hash: str, now: int) -> dict:
    """Single use and unexpired, decided by the write itself."""
    return _op_delete(_pairing_key(code_hash), condition="attribute_exists(PK) AND expires_at > :now",
                      values={":now": now})


def op_attach_device(account_id: str, method_id: str, now: int, updates: dict) -> dict:
    """Record the paired device on a pending push method, once."""
    clauses, names, values = _assignments(updates)
    return _op_update(_method_key(account_id, method_id), f"SET {', '.join(clauses)}",
                      {**values, ":pending": MethodStatus.PENDING, ":now": now},
                      condition="#status = :pending AND expires_at > :now AND attribute_not_exists(device_id)",
                      names={**names, "#status": "status"})


# ---------------------------------------------------------------- devices and nonces

def op_put_device(device_id: str, device: dict) -> dict:
    return _op_put(_device_key(device_id), device, condition="attribute_not_exists(PK)")


def get_device(device_id: str, now: int) -> dict | None:
    return _get(_device_key(device_id), now)


def op_activate_device(device_id: str, now: int) -> dict:
    return _op_update(_device_key(device_id), "SET #status = :active, activated_at = :now REMOVE expires_at",
                      {":active": MethodStatus.ACTIVE, ":pending": MethodStatus.PENDING, ":now": now},
                      condition="#status = :pending AND expires_at > :now", names={"#status": "status"})


def op_delete_device(device_id: str, account_id: str) -> dict:
    return _op_delete(_device_key(device_id), condition="account_id = :a", values={":a": account_id})


def op_set_device_email(device_id: str, account_id: str, email: str) -> dict:
    """A paired device follows its account to a new email address."""
    return _op_update(_device_key(device_id), "SET email = :e", {":e": email, ":a": account_id},
                      condition="account_id = :a")


def set_device_push_token(device_id: str, push_token_hash: str, now: int) -> None:
    _update(_device_key(device_id), "SET push_token_hash = :t, push_token_updated_at = :now",
            {":t": push_token_hash, ":now": now, ":active": MethodStatus.ACTIVE},
            condition="#status = :active", names={"#status": "status"})


def use_device_nonce(device_id: str, nonce: str, expires_at: int, now: int) -> None:
    """A signed request's nonce, accepted once; ConditionFailed for a replay."""
    from botocore.exceptions import ClientError

    try:
        _db().put_item(TableName=_table(), Item=_to_item({**_nonce_key(device_id, nonce), "expires_at": expires_at}),
                       ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
                       ExpressionAttributeValues=_to_attr_values({":now": now}))
    except ClientError as error:
        if _is_condition_failure(error):
            raise ConditionFailed(["ConditionalCheckFailed"]) from None
        raise


# ---------------------------------------------------------------- challenges

def op_put_challenge(device_id: str, challenge_id: str, challenge: dict) -> dict:
    return _op_put(_challenge_key(device_id, challenge_id), challenge, condition="attribute_not_exists(PK)")


def get_challenge(device_id: str, challenge_id: str) -> dict | None:
    """Expired ones included: the caller tells "expired" from "unknown"."""
    return _get(_challenge_key(device_id, challenge_id), None)


def list_challenges(device_id: str, now: int) -> list[dict]:
    pk, prefix = _challenges_of(device_id)
    items = _query("PK = :pk AND begins_with(SK, :prefix)", {":pk": pk, ":prefix": prefix})
    return [c for c in items if c["answer_by"] > now]


def op_decide_challenge(device_id: str, challenge_id: str, status: str, now: int, reason: str | None,
                        answer: str) -> dict:
    """Pending -> approved/denied, once and in time: of two answers the first wins. The
    answer itself is kept, so that the same answer sent again is known as a retry."""
    return _op_update(_challenge_key(device_id, challenge_id),
                      "SET #status = :s, decided_at = :now, reason = :r, answer = :a",
                      {":s": status, ":now": now, ":r": reason or "", ":a": answer, ":pending": PushStatus.PENDING},
                      condition="#status = :pending AND answer_by > :now", names={"#status": "status"})


def op_use_challenge(device_id: str, challenge_id: str, now: int) -> dict:
    """Approved -> used: an approval issues one session or one step-up."""
    return _op_update(_challenge_key(device_id, challenge_id), "SET #status = :used, used_at = :now",
                      {":used": PushStatus.USED, ":approved": PushStatus.APPROVED, ":now": now},
                      condition="#status = :approved", names={"#status": "status"})


# ---------------------------------------------------------------- pending pushes

def get_method_and_push_pending(account_id: str, method_id: str, now: int) -> tuple[dict | None, dict | None]:
    """One round trip for a push request: the method, and the account's pending pushes."""
    return _get_two(_method_key(account_id, method_id), _push_pending_key(account_id), now)


def op_put_push_pending(account_id: str, pending: dict, recent: list[int], read_version: str | None,
                        version: str) -> dict:
    """Replace the account's map of unanswered challenges (id -> answer-by time) and the
    times of the last hour's requests, only if it is still the version read: two
    concurrent push requests cannot both pass the limits."""
    if read_version is None:
        condition, values = "attribute_not_exists(PK)", None
    else:
        condition, values = "version = :read", {":read": read_version}
    return _op_put(_push_pending_key(account_id), {"pending": pending, "recent": recent, "version": version,
                                                   "expires_at": (max(recent) + 3600) if recent else None},
                   condition, values)


def op_forget_push_pending(account_id: str, challenge_id: str, version: str, now: int,
                           approving: bool = False) -> dict:
    """Drop an answered challenge; the new version makes a push request that read the
    map before this answer write again instead of putting the answered one back. An
    approval is refused (ConditionFailed) while the account's push is blocked."""
    condition = "attribute_not_exists(blocked_until) OR blocked_until <= :now" if approving else None
    return _op_update(_push_pending_key(account_id), "REMOVE pending.#c SET version = :v",
                      {":v": version, **({":now": now} if approving else {})}, condition=condition,
                      names={"#c": challenge_id})


def op_block_push(account_id: str, challenge_id: str, version: str, blocked_until: int, keep_until: int) -> dict:
    """Drop an answered challenge and block the account's push requests until
    `blocked_until` (a fraud report); the item is kept at least that long."""
    return _op_update(_push_pending_key(account_id),
                      "REMOVE pending.#c SET version = :v, blocked_until = :b, expires_at = :keep",
                      {":v": version, ":b": blocked_until, ":keep": keep_until}, names={"#c": challenge_id})
