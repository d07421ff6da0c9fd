"""CLI logins (RFC 8628 device authorization): the device-code item and the user-code item
that points at it.
"""
from chalicelib.records import CliLoginStatus
from chalicelib.store.engine import ConditionFailed, _get, _op_put, _op_update, _update, transact
from chalicelib.store.keys import _cli_login_index_key, _device_code_key, _session_list_key, _user_code_key


def create_cli_login(device_hash: str, user_code: str, record: dict) -> bool:
    """Both items or neither; False when the user code is already taken (pick another)."""
    try:
        transact([
            _op_put(_device_code_key(device_hash), {**record, "user_code": user_code},
                    condition="attribute_not_exists(PK)"),
            _op_put(_user_code_key(user_code), {"device_hash": device_hash, "expires_at": record["expires_at"]},
                    condition="attribute_not_exists(PK)"),
        ])
    except ConditionFailed:
        return False
    return True


def get_cli_login_by_user_code(user_code: str, now: int) -> dict | None:
    pointer = _get(_user_code_key(user_code), now)
    if pointer is None:
        return None
    login = _get(_device_code_key(pointer["device_hash"]), now)
    if login is not None:
        login["device_hash"] = pointer["device_hash"]
    return login


def ops_decide_cli_login(device_hash: str, now: int, status: str, account_id: str, email: str,
                         expires_at: int, approver: dict, session_id: str) -> list[dict]:
    """Pending -> approved/denied, once, while unexpired (the first part's condition). The
    decided login is indexed under its account (GSI1) for a deletion to find, and an
    approval also enters it in the account's session list (sessions.py), in the same
    transaction, so ending the account's sessions can cancel it before the CLI collects it.
    `approver`: how the deciding session was won (its `auth`, `sso_connection_id`), which the
    CLI session inherits; `session_id` the deciding session's, to know a retry of its
    decision."""
    index = _cli_login_index_key(account_id, now, device_hash)
    ops = [_op_update(_device_code_key(device_hash),
                      "SET #status = :status, account_id = :a, email = :e, decided_at = :now, GSI1PK = :gpk, "
                      "GSI1SK = :gsk, approver = :approver, decided_by = :session",
                      {":status": status, ":a": account_id, ":e": email, ":now": now, ":approver": approver,
                       ":pending": CliLoginStatus.PENDING, ":gpk": index["GSI1PK"], ":gsk": index["GSI1SK"],
                       ":session": session_id},
                      condition="attribute_exists(PK) AND #status = :pending AND expires_at > :now",
                      names={"#status": "status"})]
    if status == CliLoginStatus.APPROVED:
        ops.append(_op_update(_session_list_key(account_id), "ADD cli_logins :c",
                              {":c": {f"{device_hash}:{expires_at}"}}))
    return ops


def cancel_cli_logins(entries, now: int) -> int:
    """Approved -> cancelled for each still uncollected login of the session list's
    `cli_logins` entries; how many were cancelled (a collected one has its session)."""
    cancelled = 0
    for entry in entries or ():
        device_hash, _, until = entry.rpartition(":")
        if not until.isdigit() or int(until) <= now:
            continue
        try:
            _update(_device_code_key(device_hash), "SET #status = :cancelled, cancelled_at = :now",
                    {":cancelled": CliLoginStatus.CANCELLED, ":approved": CliLoginStatus.APPROVED, ":now": now},
                    condition="attribute_exists(PK) AND #status = :approved", names={"#status": "status"})
            cancelled += 1
        except ConditionFailed:
            pass
    return cancelled


def record_cli_poll(device_hash: str, now: int) -> dict:
    """Record a token poll, only if it is not earlier than the previous poll allowed; the
    next one is allowed `interval` seconds later. ConditionFailed (with `old`, None for an
    unknown code) when polling too fast."""
    return _update(_device_code_key(device_hash), "SET next_poll_at = :now + #interval",
                   {":now": now},
                   condition="attribute_exists(PK) AND (attribute_not_exists(next_poll_at) OR next_poll_at <= :now)",
                   names={"#interval": "interval"}, returns="ALL_NEW")


def slow_down_cli_login(device_hash: str, now: int, interval: int) -> None:
    """RFC 8628 3.5: a client polling too fast gets a longer interval."""
    _update(_device_code_key(device_hash), "SET #interval = :i, next_poll_at = :next",
            {":i": interval, ":next": now + interval}, condition="attribute_exists(PK)",
            names={"#interval": "interval"})


def op_consume_cli_login(device_hash: str, now: int) -> dict:
    """Approved -> used: the approval yields one token, even to concurrent polls."""
    return _op_update(_device_code_key(device_hash), "SET #status = :used, used_at = :now",
                      {":used": CliLoginStatus.USED, ":approved": CliLoginStatus.APPROVED, ":now": now},
                      condition="#status = :approved AND expires_at > :now", names={"#status": "status"})
