"""GET /openapi.json, generated from the route table and the pydantic models."""
import re

from chalice import Blueprint

from chalicelib.api.http import FULL, IDP, PUBLIC, ROUTES, endpoint
from chalicelib.api.models import Error
from chalicelib.config import get_settings

bp = Blueprint(__name__)

_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 303: "See other", 400: "Bad request",
                401: "Unauthenticated", 403: "Forbidden", 404: "Not found", 409: "Conflict", 410: "Gone",
                413: "Payload too large", 429: "Too many requests", 503: "Unavailable"}


def _schema_ref(model, components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_document() -> dict:
    components: dict = {}
    paths: dict = {}
    error_ref = _schema_ref(Error, components)
    for route in ROUTES:
        operation = {"summary": route.summary, "responses": {}}
        params = re.findall(r"{(\w+)}", route.path)
        if params:
            operation["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                       for p in params]
        if route.body:
            operation["requestBody"] = {"required": True, "content": {
                route.content_type: {"schema": _schema_ref(route.body, components)}}}
        success = {"description": _STATUS_TEXT.get(route.status, "OK")}
        if route.response:
            success["content"] = {"application/json": {"schema": _schema_ref(route.response, components)}}
        operation["responses"][str(route.status)] = success
        # Any route may find AWS failing: 503 service_unavailable.
        for status in sorted(set(route.errors) | {503} | ({400, 413} if route.body else set())):
            operation["responses"][str(status)] = {"description": _STATUS_TEXT.get(status, "Error"),
                                                   "content": {"application/json": {"schema": error_ref}}}
        if route.auth not in (PUBLIC, IDP):
            operation["security"] = [{"sessionCookie": []}, {"bearer": []}]
            operation["x-requires"] = "full session" if route.auth == FULL else "any session, including enrolment"
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "MFA service API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": get_settings().session_cookie_name},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@endpoint(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3.1 description")
def openapi(call):
    return build_document()
