"""AWS failing under the API: throttling, 500s, dropped connections, transaction conflicts
and lost answers injected at the botocore level (tests/support/faults.py)."""
import pytest

from tests.support import faults as fault
from tests.support.table import TABLE

# ---------------------------------------------------------------- the harness itself

def test_a_failing_call_is_never_sent_and_raises_what_botocore_raises(faults):
    from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError

    from chalicelib import aws

    db = aws.client("dynamodb")
    item = {"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}}
    expected = [(fault.THROTTLED, "ThrottlingException"), (fault.SERVER_ERROR, "InternalServerError"),
                (fault.UNAVAILABLE, "ServiceUnavailable"), (fault.CONFLICT, "TransactionConflictException")]
    for kind, code in expected:
        faults.fail("dynamodb", kind)
        with pytest.raises(ClientError) as raised:
            db.put_item(TableName=TABLE, Item=item)
        assert raised.value.response["Error"]["Code"] == code
    for kind, exception in ((fault.CONNECTION_DROPPED, ConnectionClosedError),
                            (fault.CONNECT_TIMEOUT, ConnectTimeoutError)):
        faults.fail("dynamodb", kind)
        with pytest.raises(exception):
            db.put_item(TableName=TABLE, Item=item)
    assert "Item" not in db.get_item(TableName=TABLE, Key=item)
    assert faults.injected == 6


def test_a_conflicting_transaction_is_cancelled_with_the_reason(faults):
    from botocore.exceptions import ClientError

    from chalicelib import aws

    faults.fail("dynamodb", fault.CONFLICT, operation="TransactWriteItems")
    with pytest.raises(ClientError) as raised:
        aws.client("dynamodb").transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}}}}])
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert raised.value.response["CancellationReasons"] == [{"Code": "TransactionConflict"}]


def test_a_lost_answer_is_applied_then_times_out(faults):
    from botocore.exceptions import ReadTimeoutError

    from chalicelib import aws

    db = aws.client("dynamodb")
    item = {"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}}
    faults.fail("dynamodb", fault.ANSWER_LOST)
    with pytest.raises(ReadTimeoutError):
        db.put_item(TableName=TABLE, Item=item)
    assert db.get_item(TableName=TABLE, Key=item)["Item"] == item


def test_the_nth_call_counts_from_when_the_fault_is_set_and_times_bounds_it(faults):
    from botocore.exceptions import ClientError

    from chalicelib import aws

    db = aws.client("dynamodb")
    key = {"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}}
    db.get_item(TableName=TABLE, Key=key)
    faults.fail("dynamodb", fault.THROTTLED, nth=2, times=2)
    outcomes = []
    for _ in range(4):
        try:
            db.get_item(TableName=TABLE, Key=key)
            outcomes.append("ok")
        except ClientError:
            outcomes.append("failed")
    assert outcomes == ["ok", "failed", "failed", "ok"]
    faults.fail("kms", fault.SERVER_ERROR, times=fault.ALWAYS)
    for _ in range(3):
        with pytest.raises(ClientError):
            aws.client("kms").list_keys()
    faults.clear()
    aws.client("kms").list_keys()
    assert faults.positions("kms") == [("kms", n, "ListKeys") for n in (1, 2, 3, 4)]
    assert [p[1:] for p in faults.positions("dynamodb")] == [(n, "GetItem") for n in range(1, 6)]


def test_a_dropped_answer_is_resent_by_botocore_when_its_retries_allow(faults):
    from chalicelib import aws

    # DynamoDB's client retries: the put was applied twice, the caller saw one success.
    faults.drop_answer("dynamodb", operation="PutItem")
    answer = aws.client("dynamodb").put_item(TableName=TABLE, Item={"PK": {"S": "FAULT#1"}, "SK": {"S": "FAULT"}})
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert faults.injected == 1
