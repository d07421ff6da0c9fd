"""Lazily created boto3 clients, with timeouts and retries sized to one Lambda invocation, and
the one place that tells an AWS outage from a bug.

boto3 honours AWS_ENDPOINT_URL (moto's server, LocalStack, DynamoDB Local) and the usual
credential chain by itself; clients are created on first use so that importing the app
costs nothing and tests can reset them.

Each call is bounded: `aws_attempts` tries (botocore's standard retry mode, for throttling,
5xx and dropped connections) of at most connect + read timeout each. A call starts only when
the invocation has that long left (`use_time_left`, given the Lambda context per request):
otherwise it raises Unavailable at once, and the API answers 503 instead of Lambda cutting
the request off. SES is tried once: a send whose answer was lost may have been delivered, and
the outbox, which sends each notice once per delivery, is what tries again.
"""
import sys
import threading
from collections.abc import Callable
from functools import lru_cache

from chalicelib.config import get_settings

# Sent again by the outbox, not by botocore (a resent email is a duplicate notice).
_SINGLE_ATTEMPT = {"ses"}

# Error codes that mean the service is overloaded or failing, whatever the HTTP status says.
_OUTAGE_CODES = {
    "Throttling", "ThrottlingException", "ThrottledException", "Throttled", "RequestThrottled",
    "RequestThrottledException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "LimitExceededException", "TransactionInProgressException", "SlowDown",
    "RequestTimeout", "RequestTimeoutException", "ServiceUnavailable", "InternalFailure", "InternalError",
    "InternalServerError", "KMSInternalException", "KeyUnavailableException", "DependencyTimeoutException",
}


class Unavailable(Exception):
    """An AWS service is failing, or the invocation has no time left for another call: the
    request can succeed if tried again in a moment. The API answers 503 service_unavailable."""

    code = "service_unavailable"

    def __init__(self, reason: str):
        super().__init__(reason)


# Per thread: `chalice local` serves requests from several threads.
_invocation = threading.local()


def use_time_left(milliseconds: Callable[[], float] | None) -> None:
    """What the current invocation has left, in milliseconds (the Lambda context's
    get_remaining_time_in_millis); None where there is no such limit."""
    _invocation.time_left = milliseconds


def call_budget_seconds() -> float:
    """The longest one call can take: every attempt connecting and reading to its timeout,
    plus standard mode's backoff between them (under a second each)."""
    settings = get_settings()
    return settings.aws_attempts * (settings.aws_connect_timeout_seconds + settings.aws_read_timeout_seconds) \
        + (settings.aws_attempts - 1)


def _check_time_left(**_) -> None:
    time_left = getattr(_invocation, "time_left", None)
    if time_left is not None and time_left() < call_budget_seconds() * 1000:
        raise Unavailable("not enough time left in this invocation for another AWS call")


# botocore imports urllib3's pyOpenSSL adapter when pyOpenSSL is installed (webauthn needs it)
# only to take back the standard SSLContext the adapter would replace; the import loads
# pyOpenSSL and most of cryptography on every cold start's first AWS call. Without it botocore
# takes that same class from urllib3 directly. Set here, before anything imports boto3: the
# store imports boto3.dynamodb.types on its own, maybe before (or beside) the first client.
sys.modules.setdefault("urllib3.contrib.pyopenssl", None)

# One client per service even when two threads of one request ask for it at once
# (ledger.limits counts beside a read): building one costs a cold start ~100 ms of CPU.
_building = threading.Lock()


@lru_cache(maxsize=None)
def client(service: str):
    with _building:
        return _built(service)


@lru_cache(maxsize=None)
def _built(service: str):
    import boto3
    from botocore.config import Config

    settings = get_settings()
    attempts = 1 if service in _SINGLE_ATTEMPT else settings.aws_attempts
    made = boto3.client(service, config=Config(
        retries={"total_max_attempts": attempts, "mode": "standard"},
        connect_timeout=settings.aws_connect_timeout_seconds, read_timeout=settings.aws_read_timeout_seconds,
    ))
    made.meta.events.register("before-call", _check_time_left, unique_id="mfa-time-left")
    return made


def reset() -> None:
    client.cache_clear()
    _built.cache_clear()


def is_conflict(error: BaseException) -> bool:
    """Whether an exception from boto3 is DynamoDB refusing a write because a concurrent
    transaction holds the same item (the store retries those; one that gets out is answered
    as the store's Busy)."""
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return False
    code = error.response.get("Error", {}).get("Code")
    reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
    return code == "TransactionConflictException" or (
        code == "TransactionCanceledException" and "TransactionConflict" in reasons
        and "ConditionalCheckFailed" not in reasons)


def is_outage(error: BaseException) -> bool:
    """Whether an exception from boto3 means AWS failed (throttling, 5xx, a dropped connection
    or a timeout, after botocore's retries) rather than a mistake of ours (a validation error,
    a missing permission, a bug)."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, Unavailable | ConnectionError | HTTPClientError):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500 or error.response.get("Error", {}).get("Code") in _OUTAGE_CODES
    return False
