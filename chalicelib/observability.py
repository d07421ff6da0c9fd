"""What the service tells CloudWatch: one JSON line per API request, and metrics as
CloudWatch Embedded Metric Format (EMF) lines, which CloudWatch Logs turns into metrics by
itself (no PutMetricData call, no IAM grant).

Lines go to stdout as they are: Lambda's logging handler would prefix them, and EMF must be
a JSON object on its own line. Nothing here is given a secret, a code, a token, a password, a
cookie or an email address: requests are described by their route (the path template, not
the path), status, latency, request id and a hash of the account id.
"""
import contextlib
import hashlib
import json
import sys
import threading
import time

from chalicelib.config import get_settings

NAMESPACE = "MFAService"

# Per thread: `chalice local` serves requests from several threads.
_request = threading.local()


def _emit(line: dict) -> None:
    if getattr(_request, "quiet", False):
        return
    sys.stdout.write(json.dumps(line, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def quiet():
    """No lines from this thread meanwhile: an operator command prints its own output to the
    operator (and its runs are not the service's metrics)."""
    _request.quiet = True
    try:
        yield
    finally:
        _request.quiet = False


def account_hash(account_id: str) -> str:
    """Joins the lines of one account without naming it."""
    return hashlib.sha256(f"mfa-account:{account_id}".encode()).hexdigest()[:16]


def metric(name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
    """One EMF line: the metric under the stage, and under the stage and these dimensions."""
    stage = get_settings().stage or "unset"
    dimension_sets = [["Stage"], ["Stage", *dimensions]] if dimensions else [["Stage"]]
    _emit({
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": dimension_sets, "Metrics": [{"Name": name, "Unit": unit}]}]},
        "Stage": stage, **dimensions, name: value,
    })


def login(outcome: str, method: str) -> None:
    """A login's second factor (or its password step, method "password") succeeded or failed."""
    metric("LoginSucceeded" if outcome == "succeeded" else "LoginFailed", Method=method)


def begin_request() -> None:
    _request.started = time.perf_counter()
    _request.account = None


def note_account(account_id: str | None) -> None:
    """The account the current request acts for, once known (a session, a login's owner)."""
    if account_id:
        _request.account = account_id


def end_request(request, status: int, error: str | None, lambda_context=None) -> None:
    """The request's line: route template, method, status, latency, request id, account hash
    and the error code the body names (an API error code such as `invalid_credentials`)."""
    context = getattr(request, "context", None) or {}
    started = getattr(_request, "started", None)
    account = getattr(_request, "account", None)
    line = {
        "type": "request",
        "route": context.get("resourcePath") or "unknown",
        "method": getattr(request, "method", None),
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        "request_id": context.get("requestId") or getattr(lambda_context, "aws_request_id", None),
        "stage": get_settings().stage or "unset",
    }
    if account:
        line["account"] = account_hash(account)
    if error:
        line["error"] = error
    _emit(line)
    _request.started = _request.account = None
