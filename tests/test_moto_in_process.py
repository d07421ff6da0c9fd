"""`make run`'s own calls to its embedded moto skip the sockets (localdev/moto_in_process.py),
and answer as moto's server does through its port: results, errors with their details,
binary values, pages; once the server stops, nothing answers at its address."""
import os

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from localdev import embedded_aws, moto_in_process

TABLE = "in-process"


@pytest.fixture
def server():
    embedded_aws.adapt_moto()
    started = moto_in_process.EmbeddedMotoServer(ip_address="127.0.0.1", port=embedded_aws.free_port(),
                                                 verbose=False)
    started.start()
    yield started
    started.stop()


def in_process(server, service: str):
    return boto3.session.Session().client(service, endpoint_url=server.url)


def over_the_port(server, service: str):
    """As another process calls it: through moto's server."""
    session = boto3.session.Session()
    session.events.unregister("before-send", moto_in_process.send_in_process)
    return session.client(service, endpoint_url=server.url)


@pytest.fixture
def clients(server):
    dynamodb = in_process(server, "dynamodb")
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                                {"AttributeName": "SK", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                     {"AttributeName": "SK", "KeyType": "RANGE"}])
    yield {"in process": dynamodb, "over the port": over_the_port(server, "dynamodb")}
    dynamodb.delete_table(TableName=TABLE)


def test_calls_from_this_process_open_no_connection_and_see_what_other_processes_wrote(clients, monkeypatch):
    clients["over the port"].put_item(TableName=TABLE, Item={"PK": {"S": "a"}, "SK": {"S": "1"}})
    import urllib3.util.connection

    def refused(*args, **kwargs):
        raise ConnectionRefusedError("no connection expected")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refused)
    item = clients["in process"].get_item(TableName=TABLE, Key={"PK": {"S": "a"}, "SK": {"S": "1"}})["Item"]
    assert item == {"PK": {"S": "a"}, "SK": {"S": "1"}}
    with pytest.raises(EndpointConnectionError):   # the stand-in refuses what does use the network
        clients["over the port"].get_item(TableName=TABLE, Key={"PK": {"S": "a"}, "SK": {"S": "1"}})


def without_request_ids(answer: dict) -> dict:
    metadata = answer.get("ResponseMetadata", {})
    headers = {name: value for name, value in metadata.get("HTTPHeaders", {}).items()
               if name in ("content-type", "x-amz-crc32")}
    return {**answer, "ResponseMetadata": {"HTTPStatusCode": metadata.get("HTTPStatusCode"), "HTTPHeaders": headers}}


def outcome(call) -> dict:
    try:
        return {"answer": without_request_ids(call())}
    except ClientError as error:
        return {"error": type(error).__name__, "message": str(error), "response": without_request_ids(error.response)}


def calls_on(dynamodb, pk: str) -> list:
    """Answers and errors of every kind: items with binary and non-ASCII values, a failed
    condition with the item, a cancelled transaction with its reasons, a page, no table."""
    key = {"PK": {"S": pk}, "SK": {"S": "1"}}
    item = {**key, "blob": {"B": bytes(range(256))}, "n": {"N": "1"}, "name": {"S": "é 𝄞"}}
    return [
        lambda: dynamodb.put_item(TableName=TABLE, Item=item),
        lambda: dynamodb.put_item(TableName=TABLE, Item={**item, "SK": {"S": "2"}}),
        lambda: dynamodb.get_item(TableName=TABLE, Key=key),
        lambda: dynamodb.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(PK)",
                                  ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        lambda: dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression="ADD n :one",
                                     ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW"),
        lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {**key, "SK": {"S": "3"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": key, "ConditionExpression": "n = :five",
                                "ExpressionAttributeValues": {":five": {"N": "5"}},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]),
        lambda: dynamodb.query(TableName=TABLE, KeyConditionExpression="PK = :pk", Limit=1,
                               ExpressionAttributeValues={":pk": {"S": pk}}),
        lambda: dynamodb.get_item(TableName="no-such-table", Key=key),
    ]


def test_answers_and_errors_are_the_ones_moto_sends_through_its_port(clients):
    """The same calls on the same items, through the port and then in process."""
    found = {"over the port": [outcome(call) for call in calls_on(clients["over the port"], "same")]}
    for sort_key in ("1", "2"):
        clients["over the port"].delete_item(TableName=TABLE, Key={"PK": {"S": "same"}, "SK": {"S": sort_key}})
    found["in process"] = [outcome(call) for call in calls_on(clients["in process"], "same")]
    assert found["in process"] == found["over the port"]
    kinds = [o["response"]["Error"]["Code"] if "error" in o else "answer" for o in found["in process"]]
    assert kinds == ["answer", "answer", "answer", "ConditionalCheckFailedException", "answer",
                     "TransactionCanceledException", "answer", "ResourceNotFoundException"]
    assert found["in process"][2]["answer"]["Item"]["blob"] == {"B": bytes(range(256))}
    assert found["in process"][2]["answer"]["Item"]["name"] == {"S": "é 𝄞"}
    assert found["in process"][3]["response"]["Item"]["n"] == {"N": "1"}
    assert found["in process"][6]["answer"]["LastEvaluatedKey"] == {"PK": {"S": "same"}, "SK": {"S": "1"}}


def test_other_services_answer_in_process_too(server):
    kms, other = in_process(server, "kms"), over_the_port(server, "kms")
    key_id = kms.create_key(Description="in-process test")["KeyMetadata"]["KeyId"]
    secret = os.urandom(64)
    assert other.decrypt(CiphertextBlob=kms.encrypt(KeyId=key_id, Plaintext=secret)["CiphertextBlob"])["Plaintext"] \
        == secret
    assert kms.decrypt(CiphertextBlob=other.encrypt(KeyId=key_id, Plaintext=secret)["CiphertextBlob"])["Plaintext"] \
        == secret
    ses = in_process(server, "ses")   # the query protocol: a form body, an XML answer
    ses.verify_email_identity(EmailAddress="sender@example.com")
    assert "sender@example.com" in ses.list_identities()["Identities"]


def test_once_the_server_stops_nothing_answers_at_its_address(server, clients):
    dynamodb = clients["in process"]
    dynamodb.list_tables()
    server.stop()
    with pytest.raises(EndpointConnectionError):
        dynamodb.list_tables()
    server.start()   # again on the same port, for the fixtures' cleanup


def test_moto_lists_its_services_once_not_on_every_request(clients, monkeypatch):
    """The listing kept (embedded_aws.list_moto_services_once) is moto's own."""
    import moto
    from moto import backends

    package = os.path.dirname(moto.__file__)
    assert list(backends.list_of_moto_modules()) == [
        name for name in sorted(os.listdir(package))
        if os.path.isdir(os.path.join(package, name)) and not name.startswith("__")]

    def listed(path):
        raise AssertionError(f"listed {path} during a request")

    monkeypatch.setattr(os, "listdir", listed)
    assert TABLE in clients["in process"].list_tables()["TableNames"]
    assert TABLE in clients["over the port"].list_tables()["TableNames"]


def test_dynamodb_requests_take_their_turns_in_the_order_they_came(server):
    """One request at a time (embedded_aws.serialise_dynamodb), and a request that releases
    the turn and asks again at once goes after those already waiting."""
    import threading
    import time

    from moto.dynamodb.responses import DynamoHandler

    lock, order = DynamoHandler.call_action.lock, []

    def wait_for_turn(name):
        with lock:
            order.append(name)

    def queued(count):
        deadline = time.monotonic() + 10
        while len(lock._waiting) < count and time.monotonic() < deadline:
            time.sleep(0.001)
        return len(lock._waiting)

    with lock:
        first = threading.Thread(target=wait_for_turn, args=("first",))
        first.start()
        assert queued(1) == 1
        second = threading.Thread(target=wait_for_turn, args=("second",))
        second.start()
        assert queued(2) == 2
    wait_for_turn("holder again")
    first.join(10)
    second.join(10)
    assert order == ["first", "second", "holder again"]
