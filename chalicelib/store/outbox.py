"""Notices (the outbox): queued with the change that causes them, deleted once delivered."""
from chalicelib.store.engine import _db, _from_item, _op_put, _table
from chalicelib.store.keys import _key, _notice_id, _notice_key


def op_put_notice(notice_id: str, notice: dict) -> dict:
    return _op_put(_notice_key(notice_id), notice, condition="attribute_not_exists(PK)")


def get_notice(notice_id: str) -> dict | None:
    response = _db().get_item(TableName=_table(), Key=_key(_notice_key(notice_id)), ConsistentRead=True)
    return _from_item(response.get("Item"))


def delete_notice(notice_id: str) -> None:
    _db().delete_item(TableName=_table(), Key=_key(_notice_key(notice_id)))


def notice_id_from_stream_keys(keys: dict) -> str | None:
    """The notice id of a stream record's Keys, or None for any other item."""
    return _notice_id(keys.get("PK", {}).get("S", ""), keys.get("SK", {}).get("S", ""))
