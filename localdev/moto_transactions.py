"""moto's TransactWriteItems without a copy of the whole table per transaction.

moto 5.2.5 backs up every table a transaction names with `copy.deepcopy(table)` (the items,
and the stream's records, which only grow) before it applies the items one by one, and puts
the copy back when one fails. That costs time and memory in proportion to everything ever
written: `make run` slowed with every account and grew to gigabytes. Here the backup is of
the items the transaction touches (and the stream's length), which is all a rollback needs:
a transaction writes nothing else. moto's own code still applies and checks every item.
"""
import copy
import threading

_installed = threading.Lock()


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent)."""
    import moto.dynamodb.models as models

    with _installed:
        backend = models.DynamoDBBackend
        if getattr(backend.transact_write_items, "rolls_back_touched_items", False):
            return
        original = backend.transact_write_items

        def transact_write_items(self, transact_items):
            backup = _touched_items(self, transact_items)
            try:
                return original(self, transact_items)
            except BaseException:
                _restore(backup)
                raise

        transact_write_items.rolls_back_touched_items = True
        backend.transact_write_items = transact_write_items
        # moto's own rollback then puts back the very table it kept: a no-op.
        models.copy = _CopyKeepingTables()


class _CopyKeepingTables:
    """The `copy` module as moto's backend sees it: a table is "copied" as itself."""

    @staticmethod
    def deepcopy(value, memo=None):
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def _touched_items(backend, transact_items) -> dict:
    """For each table and key the transaction names: a copy of the item as it is now (None
    when there is none); for each table with a stream: its record list and length."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    items, streams = {}, {}
    for transact_item in transact_items:
        for operation, request in transact_item.items():
            table = backend.tables.get(request.get("TableName")) if isinstance(request, dict) else None
            if table is None:
                continue
            key = request.get("Item") if operation == "Put" else request.get("Key")
            try:
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, TypeError):
                continue   # moto refuses the item before it writes anything
            place = (table, hash_value, range_value)
            if place not in items:
                items[place] = copy.deepcopy(_stored(table, hash_value, range_value))
            if table.stream_shard is not None and table not in streams:
                streams[table] = (table.stream_shard, table.stream_shard.items, len(table.stream_shard.items))
    return {"items": items, "streams": streams}


def _stored(table, hash_value, range_value):
    if range_value is None:
        return table.items.get(hash_value)
    return table.items.get(hash_value, {}).get(range_value)


def _restore(backup: dict) -> None:
    for (table, hash_value, range_value), item in backup["items"].items():
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            continue
        same_hash = table.items.get(hash_value)
        if item is not None:
            table.items[hash_value][range_value] = item
        elif same_hash is not None:
            same_hash.pop(range_value, None)
            if not same_hash:
                del table.items[hash_value]
    for shard, records, length in backup["streams"].values():
        del records[length:]
        shard.items = records
