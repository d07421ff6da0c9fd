"""GET /openapi.json, generated from the route table and the pydantic models."""
import re

from chalice import Blueprint

from chalicelib.api.http import DEVICE, FORM, FULL, IDP, PUBLIC, ROUTES, UNSAFE_METHODS, endpoint
from chalicelib.api.models import Error
from chalicelib.config import get_settings

bp = Blueprint(__name__)

_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 303: "See other", 400: "Bad request",
                401: "Unauthenticated", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
                409: "Conflict", 410: "Gone", 413: "Payload too large", 415: "Unsupported media type",
                429: "Too many requests", 503: "Unavailable"}
_DESCRIPTION = (
    "Every refusal is JSON `{error, message}` (some add fields such as `details` or `retry_after`). "
    "A method a path does not have answers 405 `method_not_allowed` with an `Allow` header naming the "
    "path's methods (components/responses/MethodNotAllowed). A 429 carries `Retry-After` (seconds).")
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again",
                                "schema": {"type": "integer", "minimum": 0}}}


def _error_statuses(route) -> set[int]:
    """What a route can answer besides its success: its own refusals, and what the shared
    layer (http.py, app.py) answers for every route of its kind."""
    statuses = set(route.errors) | {503}   # any route may find AWS failing: service_unavailable
    if route.body:
        statuses |= {400, 413}
    if route.body or route.method in UNSAFE_METHODS:
        statuses.add(415)   # a Content-Type other than the route's
    if route.method in UNSAFE_METHODS:
        # try_again: storage was busy with a concurrent change (any write); the limits.
        statuses.add(429)
    if route.auth not in (PUBLIC, IDP):
        statuses |= {401, 403}   # no session; CSRF check, enrolment or browser session required
    elif route.auth == PUBLIC and route.method in UNSAFE_METHODS:
        statuses.add(403)   # origin_not_allowed
    return statuses


def _schema_ref(model, components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _has_required_fields(model) -> bool:
    if hasattr(model, "variants"):   # one of several bodies: each names what it needs
        return True
    return any(field.is_required() for field in model.model_fields.values())


def build_document() -> dict:
    components: dict = {}
    paths: dict = {}
    error_ref = _schema_ref(Error, components)
    for route in ROUTES:
        operation = {"summary": route.summary, "responses": {}}
        parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                      for p in re.findall(r"{(\w+)}", route.path)]
        parameters += [{"name": q.name, "in": "query", "required": q.required, "schema": q.schema,
                        **({"description": q.description} if q.description else {})} for q in route.query]
        if parameters:
            operation["parameters"] = parameters
        if route.body:
            # No body at all is read as {}: required only when the model has required fields.
            operation["requestBody"] = {"required": _has_required_fields(route.body), "content": {
                route.content_type: {"schema": _schema_ref(route.body, components)}}}
        success = {"description": _STATUS_TEXT.get(route.status, "OK")}
        if route.response:
            success["content"] = {"application/json": {"schema": _schema_ref(route.response, components)}}
        operation["responses"][str(route.status)] = success
        # The identity provider's answers land in the browser: refusals are a page unless JSON is asked for.
        error_content = {"application/json": {"schema": error_ref}}
        if route.auth == IDP or route.content_type == FORM or route.status == 303:
            error_content["text/html"] = {"schema": {"type": "string"}}
        for status in sorted(_error_statuses(route)):
            operation["responses"][str(status)] = {"description": _STATUS_TEXT.get(status, "Error"),
                                                   "content": error_content,
                                                   **({"headers": _RETRY_AFTER} if status == 429 else {})}
        if route.auth == DEVICE:
            operation["security"] = [{"deviceSignature": []}]
            operation["x-requires"] = "a paired device's signature (X-Device-Timestamp, X-Device-Nonce)"
        elif route.auth not in (PUBLIC, IDP):
            operation["security"] = [{"sessionCookie": []}, {"bearer": []}]
            operation["x-requires"] = "full session" if route.auth == FULL else "any session, including enrolment"
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "MFA service API", "version": "1", "description": _DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {"MethodNotAllowed": {
                "description": "The path has no such method", "content": {"application/json": {"schema": error_ref}},
                "headers": {"Allow": {"description": "the path's methods", "required": True,
                                      "schema": {"type": "string"}}}}},
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": get_settings().session_cookie_name},
                "bearer": {"type": "http", "scheme": "bearer"},
                # ECDSA P-256 over METHOD, path, X-Device-Timestamp, X-Device-Nonce and the body's
                # SHA-256 (services/device_auth.py), with the key given at pairing.
                "deviceSignature": {"type": "apiKey", "in": "header", "name": "X-Device-Signature"},
            },
        },
    }


@endpoint(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3.1 description")
def openapi(call):
    return build_document()
