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


def failures() -> tuple[type[Exception], ...]:
    """What a call to AWS raises when the service fails it: an error answer (after botocore's
    own retries) or no answer at all."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)
