"""Deleting an account: the tombstone that marks a deletion in progress (and, once done, that
the account was deleted), and the sweeps that find and delete what is left of an account.

The sweeps use plain batch deletes: each is idempotent, so a deletion interrupted anywhere
is finished by running it again.
"""
from chalicelib.store.engine import (
    _batch_delete,
    _db,
    _from_item,
    _get,
    _op_check,
    _op_delete,
    _op_put,
    _op_update,
    _table,
    _to_attr_values,
)
from chalicelib.store.keys import (
    GSI1,
    _account_key,
    _account_partition,
    _deletion_key,
    _device_partition,
    _email_token_key,
    _is_kept_on_deletion,
)

DELETING = "deleting"
DELETED = "deleted"


def op_delete_account_item(email: str, account_id: str) -> dict:
    """The login identity goes (and with it the email is free): only this account's."""
    return _op_delete(_account_key(email), condition="account_id = :a", values={":a": account_id})


def op_account_is(email: str, account_id: str) -> dict:
    """Holds while the email's account item is this account's (not deleted, not moved)."""
    return _op_check(_account_key(email), "account_id = :a", {":a": account_id})


def op_put_tombstone(account_id: str, record: dict) -> dict:
    """Once per account: a second deletion of the same account fails here."""
    return _op_put(_deletion_key(account_id), {**record, "status": DELETING}, condition="attribute_not_exists(PK)")


def get_tombstone(account_id: str) -> dict | None:
    return _get(_deletion_key(account_id), None)


def op_finish_tombstone(account_id: str, now: int, expires_at: int) -> dict:
    """Deleting -> deleted, kept as long as the audit events are."""
    return _op_update(_deletion_key(account_id), "SET #s = :done, finished_at = :now, expires_at = :exp",
                      {":done": DELETED, ":deleting": DELETING, ":now": now, ":exp": expires_at},
                      condition="#s = :deleting", names={"#s": "status"})


def _query_keys(**kwargs) -> list[dict]:
    """The keys of every item a query finds, page after page."""
    kwargs.update(TableName=_table(), ProjectionExpression="PK, SK")
    keys = []
    while True:
        response = _db().query(**kwargs)
        keys.extend({"PK": i["PK"]["S"], "SK": i["SK"]["S"]} for i in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return keys
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _keys_in(pk: str) -> list[dict]:
    return _query_keys(KeyConditionExpression="PK = :pk", ExpressionAttributeValues=_to_attr_values({":pk": pk}),
                       ConsistentRead=True)


def account_leftovers(account_id: str) -> list[dict]:
    """Keys of the account's own items a deletion removes: all but its events and tombstone."""
    return [k for k in _keys_in(_account_partition(account_id)) if not _is_kept_on_deletion(k["SK"])]


def indexed_items(account_id: str) -> list[dict]:
    """Keys of the items GSI1 lists under the account: sessions, login attempts, CLI logins
    (an index read: eventually consistent; none of these can log in once the account item is
    gone, this only tidies them before their TTL)."""
    return _query_keys(IndexName=GSI1, KeyConditionExpression="GSI1PK = :pk",
                       ExpressionAttributeValues=_to_attr_values({":pk": _account_partition(account_id)}))


def device_items(device_id: str) -> list[dict]:
    """Keys of a push device's items: the device, its nonces, its challenges."""
    return _keys_in(_device_partition(device_id))


def email_token_items(token_hashes: list[str]) -> list[dict]:
    return [_email_token_key(h) for h in token_hashes]


def delete_items(keys: list[dict]) -> None:
    """Unconditional deletes, 25 to a batch; an item already gone is fine."""
    _batch_delete(keys)


def deletions_in_progress() -> list[dict]:
    """Tombstones of deletions not finished (an operator's sweep; a full scan)."""
    kwargs = {"TableName": _table(), "FilterExpression": "SK = :sk AND #s = :deleting",
              "ExpressionAttributeNames": {"#s": "status"},
              "ExpressionAttributeValues": _to_attr_values({":sk": "DELETION", ":deleting": DELETING})}
    found = []
    while True:
        response = _db().scan(**kwargs)
        found.extend(_from_item(i) for i in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return found
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
