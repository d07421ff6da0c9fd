"""AWS failures injected at the botocore level, into the app's own clients (chalicelib/aws.py),
for in-process tests on moto (the `faults` fixture in tests/conftest.py installs it).

    faults.fail("dynamodb", THROTTLED, nth=3)          # the 3rd DynamoDB call from now
    faults.fail("kms", SERVER_ERROR, times=ALWAYS)      # KMS is down until faults.clear()
    faults.fail("dynamodb", ANSWER_LOST, operation="TransactWriteItems")

`fail` injects what the app sees once botocore has given up on a call (its own retries are
over): a handler on the client's `before-call` event answers the call with the error instead
of sending it, so nothing is written; ANSWER_LOST lets the call through (it is applied) and
raises a read timeout from `after-call`, as when the answer never came back.

`drop_answer` works one level lower, on one HTTP attempt (`before-send`, after moto has
applied the request): the answer is lost and botocore's retry logic decides whether to send
the request again, which shows what botocore resends by itself.

`calls` records every call (service, operation) the app made while installed: run a path once
cleanly to enumerate its call positions, then inject a fault at each. `sent` records the HTTP
attempts that reached the service (botocore's resends included).
"""
import functools
from dataclasses import dataclass

SERVICES = ("dynamodb", "kms", "ses", "sns")

THROTTLED = "throttled"
SERVER_ERROR = "server_error"            # HTTP 500 from the service
UNAVAILABLE = "unavailable"              # HTTP 503 from the service
CONNECTION_DROPPED = "connection_dropped"
CONNECT_TIMEOUT = "connect_timeout"      # never reached the service
CONFLICT = "conflict"                    # DynamoDB only: a concurrent transaction holds the item
ANSWER_LOST = "answer_lost"              # applied, but the answer timed out
# The kinds that stand for a dependency that is failing (answered 503); a conflict is answered
# 429 try_again once the store's own retries are spent.
OUTAGES = (THROTTLED, SERVER_ERROR, UNAVAILABLE, CONNECTION_DROPPED, CONNECT_TIMEOUT, ANSWER_LOST)
KINDS = (*OUTAGES, CONFLICT)

ALWAYS = None  # `times`: every matching call from the nth on

# Error codes as each service sends them (status, code).
_THROTTLING = {"dynamodb": "ThrottlingException", "kms": "ThrottlingException", "ses": "Throttling",
               "sns": "Throttled"}
_INTERNAL = {"dynamodb": "InternalServerError", "kms": "KMSInternalException", "ses": "InternalFailure",
             "sns": "InternalError"}


@dataclass(frozen=True)
class Call:
    service: str
    operation: str


@dataclass
class _Plan:
    service: str
    kind: str
    nth: int
    times: int | None
    operation: str | None
    seen: int = 0
    injected: int = 0

    def matches(self, call: Call) -> bool:
        return call.service == self.service and self.operation in (None, call.operation)

    def strikes(self, call: Call) -> bool:
        """Whether this call is one the plan fails (counting it when it matches)."""
        if not self.matches(call):
            return False
        self.seen += 1
        if self.seen < self.nth or (self.times is not None and self.injected >= self.times):
            return False
        self.injected += 1
        return True


class _Answer:
    """The part of an HTTP response botocore reads from a before-call answer."""

    def __init__(self, status: int):
        self.status_code = status
        self.headers = {}
        self.content = b""


def _error_answer(kind: str, status: int, code: str) -> tuple[_Answer, dict]:
    parsed = {"Error": {"Code": code, "Message": f"injected {kind}"},
              "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}}
    if code == "TransactionCanceledException":
        parsed["CancellationReasons"] = [{"Code": "TransactionConflict"}]
    return _Answer(status), parsed


def _error_for(call: Call, kind: str):
    """What a failing call answers: (http, parsed) for a service's error, or an exception."""
    from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError

    if kind == THROTTLED:
        return _error_answer(kind, 400, _THROTTLING[call.service])
    if kind == SERVER_ERROR:
        return _error_answer(kind, 500, _INTERNAL[call.service])
    if kind == UNAVAILABLE:
        return _error_answer(kind, 503, "ServiceUnavailable")
    if kind == CONFLICT:
        if call.service != "dynamodb":
            raise ValueError("only DynamoDB has transaction conflicts")
        in_transaction = call.operation == "TransactWriteItems"
        return _error_answer(kind, 400, "TransactionCanceledException" if in_transaction
                             else "TransactionConflictException")
    if kind == CONNECTION_DROPPED:
        return ConnectionClosedError(endpoint_url=f"https://{call.service}.injected")
    if kind == CONNECT_TIMEOUT:
        return ConnectTimeoutError(endpoint_url=f"https://{call.service}.injected")
    raise ValueError(f"unknown fault kind {kind!r}")


def _answer_lost(call: Call):
    from botocore.exceptions import ReadTimeoutError

    return ReadTimeoutError(endpoint_url=f"https://{call.service}.injected")


class Faults:
    """Faults for the app's AWS clients; `calls` records what the app asked of AWS."""

    def __init__(self):
        self.calls: list[Call] = []
        self.sent: list[Call] = []
        self._plans: list[_Plan] = []
        self._dropped: list[_Plan] = []

    def install(self) -> "Faults":
        from chalicelib import aws

        for service in SERVICES:
            client = aws.client(service)
            service_id = client.meta.service_model.service_id.hyphenize()
            events = client.meta.events
            # before-call: first, so that a failing call is never sent. before-send: last and on
            # the generic event, as moto's handler is (a specific event's handlers run before the
            # generic one's), so that moto has applied the attempt when its answer is lost.
            events.register_first(f"before-call.{service_id}", functools.partial(self._before_call, service),
                                  unique_id=f"faults-before-{service}")
            events.register_last(f"after-call.{service_id}", functools.partial(self._after_call, service),
                                 unique_id=f"faults-after-{service}")
            events.register_last("before-send", functools.partial(self._before_send, service, service_id),
                                 unique_id=f"faults-send-{service}")
        return self

    def fail(self, service: str, kind: str, nth: int = 1, times: int | None = 1,
             operation: str | None = None) -> None:
        """The `nth` call of `service` (of `operation`, if given) from now fails with `kind`,
        and so do the `times` - 1 matching calls after it (ALWAYS: all of them)."""
        if service not in SERVICES or kind not in KINDS:
            raise ValueError(f"no such fault: {service} {kind}")
        self._plans.append(_Plan(service, kind, nth, times, operation))

    def drop_answer(self, service: str, nth: int = 1, times: int | None = 1, operation: str | None = None) -> None:
        """The `nth` HTTP attempt to `service` from now is applied but its answer is lost
        (a read timeout); botocore's retry settings decide whether it is sent again."""
        self._dropped.append(_Plan(service, ANSWER_LOST, nth, times, operation))

    def clear(self) -> None:
        """No more faults (the calls recorded so far are kept)."""
        self._plans.clear()
        self._dropped.clear()

    @property
    def injected(self) -> int:
        """How many calls and attempts failed so far."""
        return sum(p.injected for p in (*self._plans, *self._dropped))

    def positions(self, service: str | None = None) -> list[tuple[str, int, str]]:
        """The calls recorded so far as (service, position among that service's calls, operation),
        the position counted from 1 as `fail(nth=...)` counts it."""
        counted: dict[str, int] = {}
        positions = []
        for call in self.calls:
            counted[call.service] = counted.get(call.service, 0) + 1
            if service in (None, call.service):
                positions.append((call.service, counted[call.service], call.operation))
        return positions

    def _striking(self, plans: list[_Plan], call: Call, kinds: tuple[str, ...]) -> _Plan | None:
        hit = None
        for plan in plans:
            if plan.kind in kinds and plan.strikes(call) and hit is None:
                hit = plan
        return hit

    def _before_call(self, service: str, model, context, **_):
        call = Call(service, model.name)
        self.calls.append(call)
        plan = self._striking(self._plans, call, tuple(k for k in KINDS if k != ANSWER_LOST))
        lost = self._striking(self._plans, call, (ANSWER_LOST,))
        if lost is not None and plan is None:
            context["faults_answer_lost"] = True
        if plan is None:
            return None
        error = _error_for(call, plan.kind)
        if isinstance(error, Exception):
            raise error
        return error

    def _after_call(self, service: str, model, context, **_):
        if context.pop("faults_answer_lost", False):
            raise _answer_lost(Call(service, model.name))

    def _before_send(self, service: str, service_id: str, event_name: str, **_):
        _, sent_to, operation = event_name.split(".")
        if sent_to != service_id:
            return
        call = Call(service, operation)
        self.sent.append(call)
        if self._striking(self._dropped, call, (ANSWER_LOST,)) is not None:
            raise _answer_lost(call)
