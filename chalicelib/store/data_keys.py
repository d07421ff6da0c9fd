"""Data keys: the AES keys that seal secrets at rest (ledger/secrets.py), each stored wrapped
by the stage's KMS key, and a copy of the current one, which seals new secrets. Both writes
are conditional: of two containers making the first key, or two operators rotating, one wins.
"""
from chalicelib.store.engine import _get, _op_put, _query, transact
from chalicelib.store.keys import _current_data_key_key, _data_key_key, _data_keys


def get_current_data_key() -> dict | None:
    """{"key_id", "wrapped_key", "created_at"} of the key new secrets use; None before the first."""
    return _get(_current_data_key_key(), None)


def get_data_key(key_id: str) -> dict | None:
    return _get(_data_key_key(key_id), None)


def list_data_keys() -> list[dict]:
    pk, prefix = _data_keys()
    return _query("PK = :pk AND begins_with(SK, :prefix)", {":pk": pk, ":prefix": prefix})


def create_first_data_key(key: dict) -> None:
    """The stage's first data key, made current; ConditionFailed when there is one already."""
    transact([_op_put(_data_key_key(key["key_id"]), key, condition="attribute_not_exists(PK)"),
              _op_put(_current_data_key_key(), key, condition="attribute_not_exists(PK)")])


def make_data_key_current(key: dict, replaces: str) -> None:
    """A new data key, made current only while `replaces` still is (ConditionFailed otherwise)."""
    transact([_op_put(_data_key_key(key["key_id"]), key, condition="attribute_not_exists(PK)"),
              _op_put(_current_data_key_key(), key, condition="key_id = :old", values={":old": replaces})])
