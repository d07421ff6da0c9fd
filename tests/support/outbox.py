"""The outbox's Lambdas as AWS invokes them, in-process: the scheduled sweeper, and the table's
stream as the consumer's event source mapping reads it (with Lambda's on-failure record for a
batch it gives up on)."""
import json
from datetime import datetime, timezone

import boto3

# What EventBridge hands a scheduled Lambda (Chalice reads these fields).
SCHEDULED_EVENT = {"version": "0", "account": "123456789012", "region": "us-east-1", "detail": {},
                   "detail-type": "Scheduled Event", "source": "aws.events", "time": "2027-01-15T08:00:00Z",
                   "id": "sweep", "resources": []}


def sweep(app_module) -> dict:
    """One run of the scheduled `outbox_sweeper` Lambda."""
    return app_module.outbox_sweeper(SCHEDULED_EVENT, None)


class Stream:
    """The table's stream as the outbox consumer's event source mapping reads it."""

    def __init__(self):
        # botocore sends ARN-bearing calls to an account-specific host moto does not route.
        self.streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
        self.arn = boto3.client("dynamodb").describe_table(TableName="mfa-local")["Table"]["LatestStreamArn"]
        self.shard = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard,
                                                        ShardIteratorType="LATEST")["ShardIterator"]

    def batch(self) -> list[dict]:
        """The records written since the last batch, as Lambda hands them to the function."""
        read = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = read["NextShardIterator"]
        return [{"eventName": r["eventName"], "dynamodb": {"Keys": r["dynamodb"]["Keys"],
                                                           "SequenceNumber": r["dynamodb"]["SequenceNumber"]}}
                for r in read["Records"]]

    def on_failure_record(self, batch: list[dict], arrived_at: float) -> str:
        """Lambda's on-failure destination record for a stream batch it gave up on: the batch's
        description, not its records (docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html)."""
        arrival = datetime.fromtimestamp(arrived_at, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps({
            "requestContext": {"requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
                               "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:"
                                              "mfa-service-dev-outbox_delivery",
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0", "timestamp": arrival,
            "DDBStreamBatchInfo": {"shardId": self.shard,
                                   "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                                   "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                                   "approximateArrivalOfFirstRecord": arrival,
                                   "approximateArrivalOfLastRecord": arrival,
                                   "batchSize": len(batch), "streamArn": self.arn}})
