"""The Chalice app: blueprints, CORS preflight, and the error shape for everything.

Nothing here creates AWS clients at import time, and the only environment read at import is
OUTBOX_STREAM_ARN (which decides how the outbox Lambda is wired; see below) and the only one
set PYDANTIC_DISABLE_PLUGINS (when unset).
"""
import json
import logging
import os

# pydantic looks for plugins among the installed packages' entry points when it builds its first
# schema: reading every package's metadata costs a cold start ~25 ms, and the service uses none.
# Set before anything builds a model; an environment that sets it itself keeps its value.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from chalice import Chalice, Rate, Response

from chalicelib import errors, observability
from chalicelib.api import (
    account_deletion,
    accounts,
    cli_login,
    dev,
    docs,
    login,
    methods,
    password,
    push,
    sessions,
    sms,
    sso,
    step_up,
)
from chalicelib.api import email as email_api
from chalicelib.api.http import error_response, json_response
from chalicelib.config import get_settings

app = Chalice(app_name="mfa-service")
app.log.setLevel(logging.INFO)

for blueprint in (accounts.bp, login.bp, step_up.bp, methods.bp, push.bp, sms.bp, sessions.bp, cli_login.bp,
                  email_api.bp, password.bp, dev.bp, docs.bp, account_deletion.bp, sso.bp):
    app.register_blueprint(blueprint)

# Chalice's own errors (unknown method, unsupported media type...) in our shape.
_CHALICE_ERRORS = {
    "BadRequestError": "invalid_request",
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "NotFoundError": "not_found",
}
_INTERNAL_ERROR = errors.internal_error()
_ALLOWED_HEADERS = "Content-Type, X-Requested-With, Authorization, X-Client"


def _preflight(**path_parameters):
    """CORS preflight; the headers themselves are added by the middleware below. A path with
    parameters ({login_id}...) passes them, unused."""
    methods_here = sorted(app.routes[app.current_request.context["resourcePath"]])
    return Response(body="", status_code=204, headers={
        "Access-Control-Allow-Methods": ", ".join(methods_here),
        "Access-Control-Allow-Headers": _ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
    })


for _path in list(app.routes):
    app.route(_path, methods=["OPTIONS"], name=f"preflight {_path}")(_preflight)


def _reshape_chalice_error(response: Response) -> Response:
    if response.status_code < 400 or not isinstance(response.body, (dict, str)):
        return response
    body = response.body
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if isinstance(body, dict) and "Code" in body and "error" not in body:
        if response.status_code >= 500:
            return error_response(_INTERNAL_ERROR)
        code = _CHALICE_ERRORS.get(body["Code"], "request_refused")
        # A 405 names the methods the path has (RFC 9110); Chalice puts them in Allow.
        kept = {name: value for name, value in response.headers.items() if name.lower() == "allow"}
        return json_response(response.status_code, {"error": code, "message": str(body.get("Message", ""))}, kept)
    return response


def _add_cors(request, response: Response) -> Response:
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") in get_settings().allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"
    return response


def _deliver_outbox(event: dict, context) -> dict:
    """Sends the queued email notices of a DynamoDB Streams batch. Raising makes Lambda retry
    the batch, so no notice is lost."""
    from chalicelib import aws
    from chalicelib.ledger import outbox

    # No send starts without time for it: cut off between sending and removing a notice, the
    # batch's retry would mail it again.
    aws.use_time_left(getattr(context, "get_remaining_time_in_millis", None))
    try:
        return {"delivered": outbox.deliver_stream_records(event.get("Records", []))}
    finally:
        aws.use_time_left(None)


# `chalice deploy --stage X` imports this file with the stage's environment, where `make infra`
# recorded the table's stream (OUTBOX_STREAM_ARN): Chalice then maps the stream to the outbox
# Lambda itself (infra.finish_deploy adds the filter, retries and dead-letter queue). Without it
# the Lambda is a plain function: `make package` maps the stream in infra/app.json, and tests
# and `make run` have no stream (the local stage delivers inline).
OUTBOX_STREAM_ARN = os.environ.get("OUTBOX_STREAM_ARN")

if OUTBOX_STREAM_ARN:
    @app.on_dynamodb_record(stream_arn=OUTBOX_STREAM_ARN, batch_size=10, starting_position="TRIM_HORIZON",
                            name="outbox_delivery")
    def outbox_delivery(event):
        return _deliver_outbox(event.to_dict(), event.context)
else:
    @app.lambda_function(name="outbox_delivery")
    def outbox_delivery(event, context):
        return _deliver_outbox(event, context)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="outbox_sweeper")
def outbox_sweeper(event):
    """Re-sends the notices still pending OUTBOX_PENDING_AFTER_SECONDS after they were written
    (SES refused them, the stream's retries ran out, an inline send failed): no notice waits
    on the stream alone, and none is mailed twice (chalicelib/ledger/outbox.py)."""
    from chalicelib import aws
    from chalicelib.ledger import outbox

    aws.use_time_left(getattr(event.context, "get_remaining_time_in_millis", None))
    try:
        return outbox.sweep()
    finally:
        aws.use_time_left(None)


def _error_code(response: Response) -> str | None:
    if response.status_code < 400 or not isinstance(response.body, str):
        return None
    try:
        body = json.loads(response.body)
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _answer(event, get_response) -> Response:
    settings = get_settings()
    missing = settings.missing()
    if missing:
        # Fail closed: a stage that lacks its settings serves nothing (not even /openapi.json).
        app.log.error("refusing requests: the stage lacks settings %s", ", ".join(missing))
        return error_response(errors.misconfigured())
    if len(event.raw_body or b"") > settings.max_body_bytes:
        return error_response(errors.payload_too_large())
    try:
        return _reshape_chalice_error(get_response(event))
    except Exception:
        app.log.exception("unhandled error")
        return error_response(_INTERNAL_ERROR)


@app.middleware("http")
def api_middleware(event, get_response):
    observability.begin_request()
    response = _add_cors(event, _answer(event, get_response))
    observability.end_request(event, response.status_code, _error_code(response), event.lambda_context)
    if response.status_code >= 500:
        # The stateful stack's ServerErrorsAlarm watches this metric.
        observability.metric("ServerErrors", Route=(event.context or {}).get("resourcePath") or "unknown")
    return response
