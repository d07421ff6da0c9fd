"""The embedded local AWS: moto's server in this process, and the resources the service
needs created in whatever AWS the environment points at (moto, LocalStack, DynamoDB Local).

The table is created from infra/template.json, the same definition CloudFormation deploys.
"""
import json
import os
import socket
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.json"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def table_definition(table_name: str) -> dict:
    """CreateTable arguments from the CloudFormation resource."""
    props = json.loads(TEMPLATE.read_text())["Resources"]["Table"]["Properties"]
    return {
        "TableName": table_name,
        "BillingMode": props["BillingMode"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"],
        "StreamSpecification": {"StreamEnabled": True, **props["StreamSpecification"]},
    }


def ttl_attribute() -> str:
    props = json.loads(TEMPLATE.read_text())["Resources"]["Table"]["Properties"]
    return props["TimeToLiveSpecification"]["AttributeName"]


def provision(table_name: str, key_alias: str, sender: str) -> dict[str, str]:
    """Create the table (with TTL), the KMS key and alias, a verified SES sender, and SNS
    platform applications for push; returns the environment that names the latter."""
    import boto3

    dynamodb = boto3.client("dynamodb")
    existing = dynamodb.list_tables().get("TableNames", [])
    if table_name not in existing:
        dynamodb.create_table(**table_definition(table_name))
        dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute()},
        )
    kms = boto3.client("kms")
    aliases = {a["AliasName"] for a in kms.list_aliases().get("Aliases", [])}
    if key_alias not in aliases:
        key_id = kms.create_key(Description="MFA service secrets (local)")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=key_alias, TargetKeyId=key_id)
    boto3.client("ses").verify_email_identity(EmailAddress=sender)
    sns = boto3.client("sns")
    # The local AWS does not talk to Apple or Google: placeholder credentials are enough.
    applications = {}
    for platform, variable, attributes in (
            ("APNS", "APNS_PLATFORM_APPLICATION_ARN", {"PlatformCredential": "local", "PlatformPrincipal": "local"}),
            ("GCM", "FCM_PLATFORM_APPLICATION_ARN", {"PlatformCredential": "local", "PlatformPrincipal": "local"})):
        applications[variable] = sns.create_platform_application(
            Name=f"{table_name}-{platform.lower()}", Platform=platform, Attributes=attributes)["PlatformApplicationArn"]
    return applications


def adapt_moto() -> None:
    """moto as DynamoDB behaves, at any size: one request at a time, and transactions that
    back up only the items they touch (localdev/moto_transactions.py), expressions parsed
    once per text (localdev/moto_expressions.py); and its server's list of services read once."""
    from localdev import moto_expressions, moto_transactions

    serialise_dynamodb()
    moto_transactions.install()
    moto_expressions.install()
    list_moto_services_once()


def list_moto_services_once() -> None:
    """moto's server lists its package directory (a stat per entry, ~150) on every request
    to tell which service a host names; the installed package does not change while it runs."""
    from moto import backends

    if getattr(backends.list_of_moto_modules, "listed_once", False):
        return
    names = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules():
        return names

    list_of_moto_modules.listed_once = True
    backends.list_of_moto_modules = list_of_moto_modules


def serialise_dynamodb() -> None:
    """DynamoDB applies each request atomically; moto (its server's threads, or a request's
    own concurrent calls in-process) can interleave two requests on one table. One request
    at a time, as DynamoDB would appear, so races (two answers to a push, two uses of a
    code) behave as deployed; in the order they came, so that none waits behind another
    client's stream of requests (the local sweeper's index queries, each a scan in moto,
    once kept a request waiting past its read timeout)."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "serialised", False):
        return
    lock = InArrivalOrder()
    original = DynamoHandler.call_action

    def call_action(self):
        with lock:
            return original(self)

    call_action.serialised = True
    call_action.lock = lock
    DynamoHandler.call_action = call_action


class InArrivalOrder:
    """A lock that goes to its waiters in the order they asked for it (threading.Lock goes
    to whichever thread runs first: often the one that just released it)."""

    def __init__(self):
        import collections
        import threading

        self._new_turn = threading.Lock
        self._guard = threading.Lock()
        self._waiting = collections.deque()
        self._held = False

    def __enter__(self):
        with self._guard:
            if not self._held:
                self._held = True
                return self
            turn = self._new_turn()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()   # released by the holder that hands over
        return self

    def __exit__(self, *exc_info):
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()   # still held: by the next waiter now
            else:
                self._held = False


def start_moto(port: int | None = None):
    """Start moto's server on 127.0.0.1 in a thread of this process and point boto3 at it
    (this process's own calls skip the sockets: localdev/moto_in_process.py)."""
    import logging

    from localdev.moto_in_process import EmbeddedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    adapt_moto()
    port = port or free_port()
    server = EmbeddedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    os.environ["LOCAL_AWS"] = "embedded"
    return server
