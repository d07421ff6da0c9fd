"""The DynamoDB table as stored: raw items (attribute-value form, as a table dump shows
them) and, through the store's own reads, a method's record. boto3's client goes where the
test's AWS is: in-process moto, or DynamoDB Local."""
import re

from tests.support import LOCAL_STAGE

TABLE = LOCAL_STAGE["TABLE_NAME"]


def _dynamodb():
    import boto3

    return boto3.client("dynamodb")


def items() -> list[dict]:
    """Every item of the table (a scan)."""
    return _dynamodb().scan(TableName=TABLE)["Items"]


def items_of(sk: str | None = None, sk_prefix: str | None = None, pk_prefix: str | None = None) -> list[dict]:
    """The items of one kind: by sort key (SESSION, OUTBOX), sort-key prefix (METHOD#,
    EVENT#) or partition-key prefix (CREDENTIAL#)."""
    return [i for i in items() if (sk is None or i["SK"]["S"] == sk)
            and (sk_prefix is None or i["SK"]["S"].startswith(sk_prefix))
            and (pk_prefix is None or i["PK"]["S"].startswith(pk_prefix))]


def account_item(email: str) -> dict:
    """An account's item, as stored."""
    return _dynamodb().get_item(TableName=TABLE, Key={"PK": {"S": f"EMAIL#{email}"}, "SK": {"S": "ACCOUNT"}})["Item"]


def stored_method(email: str, method_id: str, now: float) -> dict:
    """A method's record as the store reads it (numbers as int, binary as bytes)."""
    from chalicelib import store

    account = store.get_account(email, int(now))
    return store.get_method(account["account_id"], method_id, int(now))


def restore(saved: list[dict], current: list[dict] | None = None) -> None:
    """Put the table back as `saved` (what items() answered then), from `current` (what it
    holds now, when the caller has just read it): only the items that differ are written."""
    def by_key(found):
        return {(i["PK"]["S"], i["SK"]["S"]): i for i in found}

    then, now = by_key(saved), by_key(items() if current is None else current)
    requests = [{"DeleteRequest": {"Key": {"PK": i["PK"], "SK": i["SK"]}}} for k, i in now.items() if k not in then]
    requests += [{"PutRequest": {"Item": i}} for k, i in then.items() if now.get(k) != i]
    for start in range(0, len(requests), 25):
        _dynamodb().batch_write_item(RequestItems={TABLE: requests[start:start + 25]})


# For tests that read the table thousands of times, on in-process moto only.

def _moto_table():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][_dynamodb().meta.region_name].tables[TABLE]


def items_in_moto() -> list[dict]:
    """What items() answers, read from moto's own store: a scan spends ~100 ms in moto's
    serialiser. Binary values are in moto's form: for state(), not for restore()."""
    return [item.to_json()["Attributes"] for item in _moto_table().all_items()]


def forget_stream_records() -> None:
    """In-process moto keeps every stream record of the table: a test that writes thousands
    of times drops them (nothing reads them in-process: the local stage delivers notices
    inline)."""
    shard = _moto_table().stream_shard
    if shard is not None:
        shard.items.clear()


# Counts of tries and failures, kept apart by state(): rate-limit windows, the lockout,
# audit events, and the tries counted on a login attempt, a session or a pending method; the
# account's list of its sessions, an index whose entries for ended sessions are dropped on
# read; and its count of unanswered push requests.
COUNTER_ITEMS = ("LIMIT#", "LOCKOUT", "EVENT#", "SESSIONS", "PUSHPENDING")
# The time a set of recovery codes replaced an earlier one is history, kept apart too.
COUNTER_ATTRIBUTES = frozenset({"tries", "try_ids", "released_tries", "step_up_tries", "step_up_try_ids",
                                "step_up_released", "confirm_tries", "failures", "last_failure_at", "replaced_at"})
# Values drawn at random that are too short to tell from other values by their look.
RANDOM_ATTRIBUTES = frozenset({"number", "candidates"})


_RANDOM = re.compile(r"[0-9a-f]{32,}|[A-Za-z0-9_\-+/=]{16,}")


def _generic(value):
    """An attribute value with what differs from run to run (random ids and tokens, their
    hashes, ciphertexts) replaced by a placeholder."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return _RANDOM.sub("~", inner)
    if kind == "B":
        return "<bytes>"
    if kind in ("SS", "BS", "NS"):
        return sorted(_generic({kind[0]: v}) for v in inner)
    if kind == "M":
        return {_RANDOM.sub("~", k): _generic(v) for k, v in sorted(inner.items())}
    if kind == "L":
        return [_generic(v) for v in inner]
    return inner


def state(found: list[dict]) -> tuple[list[str], list[str]]:
    """(what the table holds, its counters), each a sorted list of items in a form that two
    runs of the same requests give alike."""
    import json

    held, counted = [], []
    for item in found:
        generic = {k: "~" if k in RANDOM_ATTRIBUTES else _generic(v) for k, v in item.items()}
        key = generic["PK"] + " " + generic["SK"]
        if any(item["PK"]["S"].startswith(mark) or item["SK"]["S"].startswith(mark) for mark in COUNTER_ITEMS):
            counted.append(json.dumps(generic, sort_keys=True))
            continue
        counted.append(json.dumps({"key": key, **{k: v for k, v in generic.items() if k in COUNTER_ATTRIBUTES}},
                                  sort_keys=True))
        held.append(json.dumps({k: v for k, v in generic.items() if k not in COUNTER_ATTRIBUTES}, sort_keys=True))
    return sorted(held), sorted(counted)
