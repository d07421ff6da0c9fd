"""Audit events, under their account's partition; listed newest first."""
from chalicelib.store.engine import _alive, _db, _from_item, _op_put, _put, _table, _to_attr_values
from chalicelib.store.keys import _event_key, _events_of, _key, _unknown_login_event_key


def op_put_event(account_id: str, event: dict) -> dict:
    return _op_put(_event_key(account_id, event["at_ms"], event["event_id"]), event)


def put_unknown_login_event(email: str, event: dict) -> None:
    """A failed password step for an email without an account."""
    _put(_unknown_login_event_key(email, event["at_ms"], event["event_id"]), event)


def put_event(account_id: str, event: dict) -> None:
    """An event recorded on its own (a refused try's): a plain write, not a transaction."""
    _put(_event_key(account_id, event["at_ms"], event["event_id"]), event)


def list_events(account_id: str, now: int, limit: int, after_sk: str | None) -> tuple[list[dict], str | None]:
    """Newest first; `after_sk` continues from a previous page's last event."""
    pk, prefix = _events_of(account_id)
    kwargs = {"TableName": _table(), "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
              "ExpressionAttributeValues": _to_attr_values({":pk": pk, ":prefix": prefix}),
              "ScanIndexForward": False, "Limit": limit}
    if after_sk:
        kwargs["ExclusiveStartKey"] = _key({"PK": pk, "SK": after_sk})
    response = _db().query(**kwargs)
    raw_items = response.get("Items", [])
    events = [e for e in (_alive(_from_item(i), now) for i in raw_items) if e]
    last = response.get("LastEvaluatedKey")
    return events, (last["SK"]["S"] if last else None)
