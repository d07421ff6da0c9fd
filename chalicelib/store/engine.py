"""The generic DynamoDB machinery under every kind of item: type conversion, expiry checked
on read, the client, reads, conditional updates, queries, and transactions with their
conflict retries.

Everything that expires carries `expires_at` (epoch seconds, the table's TTL attribute) and
is also checked on read here, because DynamoDB deletes expired items hours late.

Services compose several writes into one transaction with the `op_*` builders and
`transact`; a failed condition raises ConditionFailed naming which part failed. Only domain
exceptions leave the store: ConditionFailed and Busy (the API answers Busy as
errors.try_again()), and aws.Unavailable when DynamoDB keeps throttling a batch (503).
"""
from decimal import Decimal

from chalicelib import aws
from chalicelib.clock import jitter
from chalicelib.config import get_settings
from chalicelib.store.keys import _key


class ConditionFailed(Exception):
    """A conditional write did not hold. `reasons` has one code per transaction part
    ("ConditionalCheckFailed" or "None"); `old` is the item as it was, when asked for."""

    def __init__(self, reasons: list[str] | None = None, old: dict | None = None):
        super().__init__(reasons)
        self.reasons = reasons or []
        self.old = old

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


class Busy(Exception):
    """An item was being written by a concurrent transaction, still after a few retries.
    The API answers it as errors.try_again() (429, Retry-After); `code` is the reason an
    audit event records for it."""

    code = "try_again"

    def __init__(self):
        super().__init__("Another request is changing the same data. Try again.")


# ---------------------------------------------------------------- conversion

def _serializer():
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer():
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def _plain(value):
    """DynamoDB values to plain Python: Decimal to int (or float), Binary to bytes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_plain(v) for v in value}
    from boto3.dynamodb.types import Binary

    if isinstance(value, Binary):
        return bytes(value.value)
    return value


def _to_attr_values(values: dict) -> dict:
    ser = _serializer()
    return {k: ser.serialize(v) for k, v in values.items()}


def _to_item(data: dict) -> dict:
    ser = _serializer()
    return {k: ser.serialize(v) for k, v in data.items() if v is not None}


def _from_item(item: dict | None) -> dict | None:
    if item is None:
        return None
    de = _deserializer()
    data = {k: _plain(de.deserialize(v)) for k, v in item.items()}
    for internal in ("PK", "SK", "GSI1PK", "GSI1SK"):
        data.pop(internal, None)
    return data


def _alive(item: dict | None, now: int) -> dict | None:
    """Expiry checked on read: an item past `expires_at` does not exist for us."""
    if item is None:
        return None
    expires_at = item.get("expires_at")
    if expires_at is not None and expires_at <= now:
        return None
    return item


# ---------------------------------------------------------------- client

def _db():
    return aws.client("dynamodb")


def _table() -> str:
    return get_settings().table_name


# ---------------------------------------------------------------- primitives

def _get(key: dict, now: int | None) -> dict | None:
    """The item, unless it has expired; `now` None returns it either way (the caller
    tells an expired item from an unknown one)."""
    response = _db().get_item(TableName=_table(), Key=_key(key), ConsistentRead=True)
    item = _from_item(response.get("Item"))
    return item if now is None else _alive(item, now)


def _is_condition_failure(error) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


_CONFLICT_RETRIES = 4
# Batch writes whose items come back unprocessed (throttled) are sent again this many times.
_BATCH_ATTEMPTS = 5


def _sleep(seconds: float) -> None:
    """Where the store waits; tests replace it (monkeypatch) to count pauses without waiting."""
    import time

    time.sleep(seconds)


def _pause(attempt: int) -> None:
    """Jittered, growing pause between retries of a conflicting or throttled request."""
    _sleep(jitter(0.01, 0.04) * 2 ** attempt)


def _batch_delete(keys: list[dict]) -> None:
    """Unconditional deletes, 25 to a batch (an item already gone is fine). Items DynamoDB
    leaves unprocessed (throttled) are sent again after a pause, a few times, then the store
    gives up with aws.Unavailable rather than hold the request until Lambda's timeout."""
    for start in range(0, len(keys), 25):
        pending = {_table(): [{"DeleteRequest": {"Key": _key(k)}} for k in keys[start:start + 25]]}
        for attempt in range(_BATCH_ATTEMPTS):
            if attempt:
                _pause(attempt)
            pending = _db().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise aws.Unavailable("DynamoDB left deletes unprocessed after every retry")


def transact(ops: list[dict]) -> None:
    """Run the op_* parts as one all-or-nothing transaction. A conflict with a concurrent
    transaction on the same item (TransactionConflict) is retried, then answered as Busy."""
    from botocore.exceptions import ClientError

    table = _table()
    for op in ops:
        next(iter(op.values()))["TableName"] = table
    if len(ops) == 1 and next(iter(ops[0])) in _SINGLE_WRITES:
        # One conditional write is atomic on its own, at half a transaction's write units.
        (kind, request), = ops[0].items()
        return _single_write(_SINGLE_WRITES[kind], request)
    for attempt in range(_CONFLICT_RETRIES):
        try:
            _db().transact_write_items(TransactItems=ops)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                raise ConditionFailed(reasons) from None
            if "TransactionConflict" not in reasons:
                raise
            _pause(attempt)
    raise Busy()


_SINGLE_WRITES = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}


def _single_write(call: str, request: dict) -> None:
    """A transaction of one write, sent as that write: the same condition, the same errors
    (ConditionFailed with one reason, Busy after conflicts with transactions in flight)."""
    from botocore.exceptions import ClientError

    for attempt in range(_CONFLICT_RETRIES):
        try:
            getattr(_db(), call)(**request)
            return
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConditionFailed(["ConditionalCheckFailed"]) from None
            if error.response.get("Error", {}).get("Code") != "TransactionConflictException":
                raise
            _pause(attempt)
    raise Busy()


def _update(key: dict, expression: str, values: dict, condition: str | None = None,
            names: dict | None = None, returns: str = "NONE") -> dict | None:
    from botocore.exceptions import ClientError

    kwargs = {
        "TableName": _table(),
        "Key": _key(key),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": _to_attr_values(values),
        "ReturnValues": returns,
    }
    if condition:
        kwargs["ConditionExpression"] = condition
        kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if names:
        kwargs["ExpressionAttributeNames"] = names
    for attempt in range(_CONFLICT_RETRIES):
        try:
            response = _db().update_item(**kwargs)
            return _from_item(response.get("Attributes"))
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConditionFailed(["ConditionalCheckFailed"], old=_from_item(error.response.get("Item"))) from None
            # The item is part of a transaction in flight.
            if error.response.get("Error", {}).get("Code") != "TransactionConflictException":
                raise
            _pause(attempt)
    raise Busy()


def _put(key: dict, data: dict, condition: str | None = None) -> None:
    """One item written on its own (not in a transaction: half the write units)."""
    _single_write("put_item", {"TableName": _table(), **_op_put(key, data, condition)["Put"]})


def _get_two(first: dict, second: dict, now: int) -> tuple[dict | None, dict | None]:
    """Two items in one consistent batch read: the first checked for expiry, the second as is."""
    found = _get_all([first, second])
    return _alive(found[0], now), found[1]


def _get_all(keys: list[dict]) -> list[dict | None]:
    """Items (up to 100) in one consistent batch read, in the order of `keys`, None for a
    missing one; expired ones included (the caller checks)."""
    request = {_table(): {"Keys": [_key(k) for k in keys], "ConsistentRead": True}}
    found = {}
    # A throttled key comes back unprocessed: ask again, never read it as missing.
    for attempt in range(_CONFLICT_RETRIES + 1):
        response = _db().batch_get_item(RequestItems=request)
        found.update({(i["PK"]["S"], i["SK"]["S"]): _from_item(i) for i in response["Responses"].get(_table(), [])})
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
        _pause(attempt)
    else:
        raise Busy()
    return [found.get((k["PK"], k["SK"])) for k in keys]


# ---------------------------------------------------------------- transaction parts (op_*)

def _assignments(attributes: dict, prefix: str = "u") -> tuple[list[str], dict, dict]:
    """`#u0 = :u0`-style assignments for arbitrary attribute names: (clauses, names, values)."""
    names = {f"#{prefix}{i}": name for i, name in enumerate(attributes)}
    values = {f":{prefix}{i}": value for i, value in enumerate(attributes.values())}
    return [f"#{prefix}{i} = :{prefix}{i}" for i in range(len(attributes))], names, values


def _op_put(key: dict, data: dict, condition: str | None = None, values: dict | None = None) -> dict:
    put = {"Item": _to_item({**key, **data})}
    if condition:
        put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = _to_attr_values(values)
    return {"Put": put}


def _op_update(key: dict, expression: str, values: dict | None = None, condition: str | None = None,
               names: dict | None = None) -> dict:
    update = {"Key": _key(key), "UpdateExpression": expression}
    if values:
        update["ExpressionAttributeValues"] = _to_attr_values(values)
    if condition:
        update["ConditionExpression"] = condition
    if names:
        update["ExpressionAttributeNames"] = names
    return {"Update": update}


def _op_delete(key: dict, condition: str | None = None, values: dict | None = None) -> dict:
    delete = {"Key": _key(key)}
    if condition:
        delete["ConditionExpression"] = condition
        if values:
            delete["ExpressionAttributeValues"] = _to_attr_values(values)
    return {"Delete": delete}


# ---------------------------------------------------------------- queries

def _query(condition: str, values: dict, index: str | None = None, keep_pk: bool = False,
           limit: int | None = None) -> list[dict]:
    """Every item matching, or the first `limit` of them."""
    kwargs = {"TableName": _table(), "KeyConditionExpression": condition,
              "ExpressionAttributeValues": _to_attr_values(values)}
    if index:
        kwargs["IndexName"] = index
    else:
        kwargs["ConsistentRead"] = True
    if limit is not None:
        kwargs["Limit"] = limit
    items = []
    while limit is None or len(items) < limit:
        response = _db().query(**kwargs)
        for raw in response.get("Items", []):
            item = _from_item(raw)
            if keep_pk:
                item["_pk"] = raw["PK"]["S"]
            items.append(item)
        if "LastEvaluatedKey" not in response:
            return items
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return items


def _equalities(requires: tuple[tuple[str, str], ...]) -> tuple[str, dict, dict]:
    """Condition clauses `AND #rN = :rN` for each (attribute, value), with their names and values."""
    clause, names, values = "", {}, {}
    for i, (attribute, value) in enumerate(requires):
        clause += f" AND #r{i} = :r{i}"
        names[f"#r{i}"] = attribute
        values[f":r{i}"] = value
    return clause, names, values


def _still(taken: tuple[str, object] | None) -> tuple[str, dict, dict]:
    """A condition clause `AND` the attribute still has the value read (None: still absent),
    with its name and value; nothing for None."""
    if not taken:
        return "", {}, {}
    attribute, value = taken
    if value is None:
        return " AND attribute_not_exists(#taken)", {"#taken": attribute}, {}
    return " AND #taken = :taken", {"#taken": attribute}, {":taken": value}


def _removal(takes: tuple[str, ...]) -> str:
    return (" REMOVE " + ", ".join(takes)) if takes else ""


def _op_check(key: dict, condition: str, values: dict | None = None, names: dict | None = None) -> dict:
    """A transaction part that writes nothing: only its condition must hold."""
    check = {"Key": _key(key), "ConditionExpression": condition}
    if values:
        check["ExpressionAttributeValues"] = _to_attr_values(values)
    if names:
        check["ExpressionAttributeNames"] = names
    return {"ConditionCheck": check}


def _scan(condition: str, values: dict, names: dict | None = None):
    """Every item of the table that matches the filter `condition`, page by page (operators'
    commands only): (PK, SK, item)."""
    kwargs = {"TableName": _table(), "FilterExpression": condition, "ExpressionAttributeValues": _to_attr_values(values)}
    if names:
        kwargs["ExpressionAttributeNames"] = names
    while True:
        response = _db().scan(**kwargs)
        for raw in response.get("Items", []):
            yield raw["PK"]["S"], raw["SK"]["S"], _from_item(raw)
        if "LastEvaluatedKey" not in response:
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _replace_value(key: dict, attribute: str, old, new) -> bool:
    """Set `attribute` to `new` only while it still holds `old` (so a concurrent change of
    the item, or its deletion, wins); whether it was set."""
    try:
        _update(key, "SET #a = :new", {":new": new, ":old": old}, condition="#a = :old", names={"#a": attribute})
    except ConditionFailed:
        return False
    return True
