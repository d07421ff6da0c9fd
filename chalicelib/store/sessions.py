"""Sessions: keyed by the token's hash, listed per account through GSI1; sliding expiry,
step-up tries and the step-up WebAuthn challenge.

GSI1 is eventually consistent: a session created a moment ago may be missing from it. So
each account also has a session list item (keys.py: ACCOUNT#<id>/SESSIONS) to which every
write that puts a session adds its token hash, in the same transaction (`ops_put_session`,
the only way to put one). Ending sessions reads that item strongly (`account_sessions`),
so no session committed before the read survives; authenticating still reads only the
session item itself. Entries of sessions already gone are dropped as sessions are ended.
"""
from chalicelib.store.engine import (
    ConditionFailed,
    _alive,
    _batch_delete,
    _db,
    _from_item,
    _get,
    _is_condition_failure,
    _op_delete,
    _op_put,
    _op_update,
    _query,
    _removal,
    _still,
    _table,
    _to_attr_values,
    _update,
)
from chalicelib.store.keys import (
    GSI1,
    _key,
    _revoked_session_key,
    _session_index_key,
    _session_key,
    _session_list_key,
    _session_token_hash,
    _sessions_of,
)


def ops_put_session(token_hash: str, session: dict) -> list[dict]:
    """The session and its entry in the account's session list: both in one transaction."""
    gsi = _session_index_key(session)
    return [_op_put(_session_key(token_hash), {**session, **gsi}, condition="attribute_not_exists(PK)"),
            _op_update(_session_list_key(session["account_id"]), "ADD tokens :t",
                       {":t": {_entry(token_hash, session["absolute_expires_at"])}})]


def _entry(item_hash: str, until: int) -> str:
    return f"{item_hash}:{until}"


def _parse_entries(entries, now: int) -> dict[str, str]:
    """hash -> entry, for the entries not past their expiry."""
    found = {}
    for entry in entries or ():
        item_hash, _, until = entry.rpartition(":")
        if until.isdigit() and int(until) > now:
            found[item_hash] = entry
    return found


def account_sessions(account_id: str, now: int) -> tuple[list[dict], dict]:
    """Every live session of the account, strongly: those in its session list (read
    consistently, then each session item in a consistent batch read) and those GSI1 shows
    (sessions made before the list existed). Also the list item as read (`tokens`,
    `cli_logins`: sets of entries), to drop what is ended."""
    listed = _get(_session_list_key(account_id), None) or {}
    hashes = list(_parse_entries(listed.get("tokens"), now))
    found = {s["token_hash"]: s for s in list_sessions(account_id, now)}
    for start in range(0, len(hashes), 100):
        request = {_table(): {"Keys": [_key(_session_key(h)) for h in hashes[start:start + 100]],
                              "ConsistentRead": True}}
        while request:
            response = _db().batch_get_item(RequestItems=request)
            for raw in response["Responses"].get(_table(), []):
                token_hash = _session_token_hash(raw["PK"]["S"])
                item = _alive(_from_item(raw), now)
                if item is not None:
                    item["token_hash"] = token_hash
                    found[token_hash] = item
            request = response.get("UnprocessedKeys") or {}
    return [s for s in found.values() if s.get("account_id") == account_id], listed


def unlist(account_id: str, tokens: set[str], cli_logins: set[str] = frozenset()) -> None:
    """Drop entries from the account's session list (concurrent additions stay)."""
    parts, values = [], {}
    if tokens:
        parts.append("tokens :t")
        values[":t"] = set(tokens)
    if cli_logins:
        parts.append("cli_logins :c")
        values[":c"] = set(cli_logins)
    if parts:
        _update(_session_list_key(account_id), "DELETE " + ", ".join(parts), values)


def op_delete_session(token_hash: str) -> dict:
    return _op_delete(_session_key(token_hash))


def ops_revoke_session(session: dict) -> list[dict]:
    """End one session of its account (refused when it is gone) and keep a record of that
    until the session would have ended anyway, which a retry of the same revocation finds
    (`was_revoked`)."""
    account_id = session["account_id"]
    return [_op_delete(_session_key(session["token_hash"]), condition="account_id = :a", values={":a": account_id}),
            _op_put(_revoked_session_key(account_id, session["session_id"]),
                    {"expires_at": session["absolute_expires_at"]})]


def was_revoked(account_id: str, session_id: str, now: int) -> bool:
    return _get(_revoked_session_key(account_id, session_id), now) is not None


def get_session(token_hash: str, now: int) -> dict | None:
    # Strongly consistent: a logout or revocation takes effect on the very next request.
    session = _get(_session_key(token_hash), now)
    if session is not None:
        session["token_hash"] = token_hash
    return session


def touch_session(token_hash: str, now: int, expires_at: int) -> None:
    """Slide the expiry; the session may have been revoked meanwhile, then nothing is written."""
    try:
        _update(_session_key(token_hash), "SET last_seen_at = :now, expires_at = :exp",
                {":now": now, ":exp": expires_at}, condition="attribute_exists(PK) AND expires_at > :now")
    except ConditionFailed:
        pass


def op_count_step_up_try(token_hash: str, try_id: str, now: int, max_tries: int,
                         taken: tuple[str, object] | None = None, takes: tuple[str, ...] = ()) -> dict:
    """As op_count_login_try, for step-up on a live session."""
    values = {":one": 1, ":now": now, ":max": max_tries, ":id": try_id, ":ids": {try_id}}
    condition = ("attribute_exists(PK) AND expires_at > :now AND "
                 "(attribute_not_exists(step_up_tries) OR step_up_tries < :max) AND "
                 "NOT contains(step_up_try_ids, :id)")
    names = {}
    still, taken_names, taken_values = _still(taken)
    condition += still
    names.update(taken_names)
    values.update(taken_values)
    return _op_update(_session_key(token_hash), "ADD step_up_tries :one, step_up_try_ids :ids" + _removal(takes),
                      values, condition=condition, names=names or None)


def release_step_up_try(token_hash: str, try_id: str) -> None:
    """As release_login_try, for a step-up try on a session."""
    try:
        _update(_session_key(token_hash), "ADD step_up_tries :minus, step_up_released :ids",
                {":minus": -1, ":id": try_id, ":ids": {try_id}},
                condition="attribute_exists(PK) AND contains(step_up_try_ids, :id) AND "
                          "NOT contains(step_up_released, :id)")
    except ConditionFailed:
        pass


def op_mark_step_up(token_hash: str, now: int) -> dict:
    """The tries start again (their ids with them: the item stays small)."""
    return _op_update(_session_key(token_hash), "SET mfa_at = :now, step_up_tries = :zero "
                      "REMOVE step_up_try_ids, step_up_released",
                      {":now": now, ":zero": 0}, condition="attribute_exists(PK) AND expires_at > :now")


def delete_sessions(token_hashes: list[str]) -> None:
    _batch_delete([_session_key(h) for h in token_hashes])


def list_sessions(account_id: str, now: int) -> list[dict]:
    pk, prefix = _sessions_of(account_id)
    items = _query("GSI1PK = :pk AND begins_with(GSI1SK, :prefix)", {":pk": pk, ":prefix": prefix},
                   index=GSI1, keep_pk=True)
    sessions = []
    for item in items:
        token_hash = _session_token_hash(item.pop("_pk"))
        if _alive(item, now):
            item["token_hash"] = token_hash
            sessions.append(item)
    return sessions


def delete_session(token_hash: str, account_id: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        _db().delete_item(TableName=_table(), Key=_key(_session_key(token_hash)),
                          ConditionExpression="account_id = :a", ExpressionAttributeValues=_to_attr_values({":a": account_id}))
    except ClientError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True
