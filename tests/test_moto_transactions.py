"""The embedded moto's transactions back up only the items they touch
(localdev/moto_transactions.py): still all or nothing, stream included."""
import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support import LOCAL_STAGE

TABLE = LOCAL_STAGE["TABLE_NAME"]


def key(pk: str, sk: str = "A") -> dict:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def everything(dynamodb) -> dict:
    items = dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return {(i["PK"]["S"], i["SK"]["S"]): i for i in items}


def stream_records(dynamodb) -> list:
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]


@pytest.fixture
def dynamodb(local_aws):
    from moto.dynamodb.models import DynamoDBBackend

    assert DynamoDBBackend.transact_write_items.rolls_back_touched_items
    client = boto3.client("dynamodb")
    client.put_item(TableName=TABLE, Item={**key("kept"), "n": {"N": "1"}, "tags": {"SS": ["a"]}})
    client.put_item(TableName=TABLE, Item={**key("doomed"), "n": {"N": "1"}})
    client.put_item(TableName=TABLE, Item={**key("replaced"), "v": {"S": "old"}})
    client.put_item(TableName=TABLE, Item=key("witness"))
    return client


def writes_then(last: dict) -> list:
    """A new item, an in-place update, a replacement and a deletion, then `last`."""
    return [
        {"Put": {"TableName": TABLE, "Item": {**key("new", "B"), "v": {"S": "x"}}}},
        {"Update": {"TableName": TABLE, "Key": key("kept"), "UpdateExpression": "ADD n :one, tags :b",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":b": {"SS": ["b"]}}}},
        {"Put": {"TableName": TABLE, "Item": {**key("replaced"), "v": {"S": "new"}}}},
        {"Delete": {"TableName": TABLE, "Key": key("doomed")}},
        last,
    ]


@pytest.mark.parametrize("last, error", [
    ({"ConditionCheck": {"TableName": TABLE, "Key": key("kept", "missing"),
                         "ConditionExpression": "attribute_exists(PK)"}}, "TransactionCanceledException"),
    ({"Update": {"TableName": TABLE, "Key": key("kept", "counter"), "UpdateExpression": "SET n = :n",
                 "ConditionExpression": "attribute_exists(PK)", "ExpressionAttributeValues": {":n": {"N": "5"}}}},
     "TransactionCanceledException"),
    # The same item twice: moto refuses it when it reaches it, after the writes before it.
    ({"Put": {"TableName": TABLE, "Item": {**key("new", "B"), "v": {"S": "again"}}}}, "ValidationException"),
], ids=["failed condition check", "failed conditional update", "same item twice"])
def test_a_failed_transaction_leaves_every_item_and_the_stream_as_they_were(dynamodb, last, error):
    before, records_before = everything(dynamodb), stream_records(dynamodb)
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=writes_then(last))
    assert refused.value.response["Error"]["Code"] == error
    assert everything(dynamodb) == before
    assert stream_records(dynamodb) == records_before
    # The table still takes writes to the same items afterwards.
    dynamodb.transact_write_items(TransactItems=writes_then(
        {"ConditionCheck": {"TableName": TABLE, "Key": key("witness"), "ConditionExpression": "attribute_exists(PK)"}}))
    after = everything(dynamodb)
    assert ("doomed", "A") not in after and after[("new", "B")]["v"] == {"S": "x"}
    assert after[("kept", "A")]["n"] == {"N": "2"} and set(after[("kept", "A")]["tags"]["SS"]) == {"a", "b"}
    assert after[("replaced", "A")]["v"] == {"S": "new"}
    assert len(stream_records(dynamodb)) == len(records_before) + 4
