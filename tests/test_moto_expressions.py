"""The embedded moto parses each expression text once (localdev/moto_expressions.py): the
same text on other items, with other values and names, still means what it says there;
a text that does not parse is refused every time."""
import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support import LOCAL_STAGE

TABLE = LOCAL_STAGE["TABLE_NAME"]
UPDATE = "SET #label = :label, tries = if_not_exists(tries, :zero) + :one ADD seen :tag REMOVE gone"
CONDITION = "attribute_not_exists(PK) OR (tries < :limit AND #label <> :label)"


def key(pk: str) -> dict:
    return {"PK": {"S": pk}, "SK": {"S": "A"}}


@pytest.fixture
def dynamodb(local_aws):
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    assert UpdateExpressionParser.make.kept_by_text
    return boto3.client("dynamodb")


def update(dynamodb, pk: str, label: str, tag: str, limit: int = 10, name: str = "label") -> dict:
    return dynamodb.update_item(
        TableName=TABLE, Key=key(pk), UpdateExpression=UPDATE, ConditionExpression=CONDITION,
        ExpressionAttributeNames={"#label": name},
        ExpressionAttributeValues={":label": {"S": label}, ":zero": {"N": "0"}, ":one": {"N": "1"},
                                   ":tag": {"SS": [tag]}, ":limit": {"N": str(limit)}},
        ReturnValues="ALL_NEW")["Attributes"]


def test_one_text_on_several_items_with_other_values_and_names(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**key("old"), "gone": {"S": "x"}, "tries": {"N": "4"}})
    first = update(dynamodb, "new", "a", "t1")   # a new item: moto validates the update twice
    second = update(dynamodb, "old", "b", "t2")
    third = update(dynamodb, "new", "c", "t3", name="other")
    assert first == {**key("new"), "label": {"S": "a"}, "tries": {"N": "1"}, "seen": {"SS": ["t1"]}}
    assert second == {**key("old"), "label": {"S": "b"}, "tries": {"N": "5"}, "seen": {"SS": ["t2"]}}
    assert third["other"] == {"S": "c"} and third["label"] == {"S": "a"} and third["tries"] == {"N": "2"}
    assert set(third["seen"]["SS"]) == {"t1", "t3"}


def test_one_condition_text_holds_or_fails_by_each_request_s_values(dynamodb):
    update(dynamodb, "item", "a", "t1")
    with pytest.raises(ClientError) as same_label:
        update(dynamodb, "item", "a", "t2")
    assert same_label.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as over_limit:
        update(dynamodb, "item", "b", "t2", limit=1)
    assert over_limit.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert update(dynamodb, "item", "b", "t2", limit=2)["tries"] == {"N": "2"}
    # In a transaction too, beside the same text on another item.
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": TABLE, "Key": key("item"), "ConditionExpression": CONDITION,
                                "ExpressionAttributeNames": {"#label": "label"},
                                "ExpressionAttributeValues": {":limit": {"N": "10"}, ":label": {"S": "b"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": key("absent"), "ConditionExpression": CONDITION,
                                "ExpressionAttributeNames": {"#label": "label"},
                                "ExpressionAttributeValues": {":limit": {"N": "10"}, ":label": {"S": "b"}}}}])
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["ConditionalCheckFailed", "None"]


@pytest.mark.parametrize("field, text", [("UpdateExpression", "SET = :x"), ("ConditionExpression", "PK = :x ^")])
def test_a_text_that_does_not_parse_is_refused_every_time(dynamodb, field, text):
    """(moto raises its parser's ValueError for a condition it cannot lex: the app sends none.)"""
    request = {"TableName": TABLE, "Key": key("bad"), "UpdateExpression": "SET n = :x",
               "ExpressionAttributeValues": {":x": {"N": "1"}}, field: text}

    def refusal():
        with pytest.raises((ClientError, ValueError)) as refused:
            dynamodb.update_item(**request)
        return type(refused.value), str(refused.value)

    assert refusal() == refusal()
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key("bad"))
    request[field] = {"UpdateExpression": "SET n = :x", "ConditionExpression": "attribute_not_exists(PK)"}[field]
    dynamodb.update_item(**request)
