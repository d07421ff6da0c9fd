"""Lazily created boto3 clients.

boto3 honours AWS_ENDPOINT_URL (moto's server, LocalStack, DynamoDB Local) and the usual
credential chain by itself; clients are created on first use so that importing the app
costs nothing and tests can reset them.
"""
from functools import lru_cache


@lru_cache(maxsize=None)
def client(service: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10),
    )


def reset() -> None:
    client.cache_clear()


def is_outage(error: BaseException) -> bool:
    """Whether `error` is an AWS call failing (an error answer once botocore's retries are
    spent, a dropped connection, a timeout), rather than a refusal or a bug of ours."""
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(error, (BotoCoreError, ClientError))
