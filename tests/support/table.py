"""The DynamoDB table as stored: raw items (attribute-value form, as a table dump shows
them) and, through the store's own reads, a method's record. boto3's client goes where the
test's AWS is: in-process moto, or DynamoDB Local."""
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
