"""Every route that takes a JSON body, from the route table (chalicelib/api/http.py ROUTES):
bodies that are not JSON, JSON of the wrong type, missing required fields, fields of the
wrong type, unknown fields (the models forbid them) and a body over 64 KiB. Each answers a
4xx that /openapi.json declares for the route, as {error, message}, and leaves the table
as it was. The routes that need a session run with Alice's; the phone's routes are signed
by her paired phone, so that the body reaches the parser."""
import json
import re

import pytest

import app  # noqa: F401  (registers the routes)
from chalicelib.api.http import DEVICE, IDP, PUBLIC, ROUTES
from tests.support import table
from tests.support.phone import Phone, pair_phone, signature_headers

JSON_ROUTES = [route for route in ROUTES if route.body is not None and route.content_type == "application/json"]
NOT_JSON = [b"{", b"not json", b"\xff\xfe", b'{"a": 1', b"\x00"]
WRONG_JSON_TYPES = [b"[]", b"[{}]", b'"a string"', b"123", b"1.5", b"true", b"null"]
OVERSIZED = b'{"padding": "' + b"x" * (64 * 1024) + b'"}'


def _models(route) -> list:
    return route.body.variants() if hasattr(route.body, "variants") else [route.body]


def _fields(route) -> dict[str, dict]:
    """Each field of the body (of any of its variants) and its JSON schema."""
    fields: dict[str, dict] = {}
    for model in _models(route):
        fields.update(model.model_json_schema()["properties"])
    return fields


def _wrong_value(schema: dict):
    # A list of lists is none of the scalar or object types the models use; an array field gets a string.
    return "not a list" if schema.get("type") == "array" else [[1]]


def _cases(route) -> list[tuple[str, bytes, int, set[str]]]:
    """(what, raw body, expected status, fields the answer's details must name)."""
    plain = not hasattr(route.body, "variants")
    cases = [(f"not JSON {raw!r}", raw, 400, set()) for raw in NOT_JSON]
    cases += [(f"JSON {raw.decode()}", raw, 400, set()) for raw in WRONG_JSON_TYPES]
    required = {name for model in _models(route) for name, field in model.model_fields.items() if field.is_required()}
    if required:
        cases.append(("no field", b"{}", 400, required if plain else set()))
    cases += [(f"{name} of the wrong type", json.dumps({name: _wrong_value(schema)}).encode(), 400,
               {name} if plain else set()) for name, schema in _fields(route).items()]
    cases.append(("an unknown field", json.dumps({"unknown_field": True}).encode(), 400,
                  {"unknown_field"} if plain else set()))
    cases.append(("over 64 KiB", OVERSIZED, 413, set()))
    return cases


@pytest.fixture
def caller(request, make_client, clock):
    """How to send a raw body to a route, as its client would: a browser with Alice's full
    session, or her paired phone signing the request."""
    route = request.param
    if route.auth in (PUBLIC, IDP):
        api = make_client()
        return lambda path, raw: api.request(route.method, path, raw=raw)
    alice = request.getfixturevalue("alice")
    if route.auth != DEVICE:
        return lambda path, raw: alice.api.request(route.method, path, raw=raw)
    alice.step_up()
    phone = Phone(make_client(origin=None), clock)
    pair_phone(alice, phone)

    def signed(path, raw):
        path = path.replace("{device_id}", phone.device_id)
        return phone.api.request(route.method, path, raw=raw, browser=False,
                                 headers=signature_headers(phone.key, route.method, path, raw, now=clock.now()))

    return signed


def _stored_state(route) -> list:
    items = table.items()
    if route.auth == DEVICE:
        # A signed request's nonce is spent when its signature is checked, before the body is
        # read (a replayed request is refused whatever it carries).
        items = [i for i in items if not i["SK"]["S"].startswith("NONCE#")]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


@pytest.mark.parametrize("caller", JSON_ROUTES, indirect=True, ids=lambda r: f"{r.method} {r.path}")
def test_malformed_bodies_are_refused_as_documented_and_change_nothing(request, caller):
    from chalicelib.api.docs import build_document

    route = request.node.callspec.params["caller"]
    path = re.sub(r"{(?!device_id)\w+}", "0" * 32, route.path)
    documented = build_document()["paths"][route.path][route.method.lower()]["responses"]
    before = _stored_state(route)
    problems = []
    for what, raw, status, named in _cases(route):
        response = caller(path, raw)
        body = response.json or {}
        details = {d["field"].split(".")[0] for d in body.get("details") or []}
        if (response.status_code != status or str(status) not in documented
                or not isinstance(body.get("error"), str) or not body.get("message") or not named <= details):
            problems.append(f"{what}: {response.status_code} {body}")
        if _stored_state(route) != before:
            problems.append(f"{what}: the table changed")
            before = _stored_state(route)
    assert not problems, "\n".join(problems)
