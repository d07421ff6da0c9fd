"""Bad input on every route gets a 4xx with the error shape, never a 500; the OpenAPI
document covers every route."""
import json

import pytest

from tests.support.journeys import PASSWORD

LOGIN_ID = "0" * 32

# Route-specific values that are JSON of the right shape but invalid (lengths, blanks, ...);
# every route's malformed bodies are the generated table below.
BODIES = {
    ("POST", "/v1/accounts"): [
        {"email": "a" * 300 + "@example.com", "password": PASSWORD},
        {"email": "a@example.com", "password": "x" * 2000},
        {"email": "not an address", "password": PASSWORD},
    ],
    ("POST", "/v1/accounts/verify-email"): [
        {"token": ""}, {"token": "x" * 1000}, {"token": {"$ne": 1}},
    ],
    ("POST", f"/v1/login/{LOGIN_ID}/verify"): [
        {"method_id": "x" * 100, "code": "123456"},
        {"method_id": "x", "code": "123456", "challenge_id": "y"},   # two proofs: exactly one is accepted
    ],
    ("POST", "/v1/account/methods/totp"): [
        {"label": ""}, {"label": "x" * 65}, {"label": "   "},
    ],
    ("POST", "/v1/account/methods/abc/confirm"): [
        {"code": ""},
    ],
}

NEEDS_SESSION = {"/v1/account/methods/totp", "/v1/account/methods/abc/confirm"}


@pytest.mark.parametrize("method, path, body", [(m, p, b) for (m, p), bodies in BODIES.items() for b in bodies])
def test_invalid_values_get_400_with_error_shape(person, api, method, path, body):
    if path in NEEDS_SESSION:
        person.sign_up()
        person.password_step()
    response = api.request(method, path, raw=json.dumps(body).encode())
    assert response.status_code == 400, (response.status_code, response.json)
    assert response.json["error"] == "invalid_request" and response.json["message"]


def test_wrong_content_type_gets_415_in_error_shape(api):
    response = api.request("POST", "/v1/login", raw=b"email=a",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415 and response.json["error"] == "unsupported_media_type"


def test_wrong_method_gets_405_in_error_shape(api):
    response = api.request("PUT", "/v1/login", raw=b"{}")
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"POST", "OPTIONS"}


def test_unexpected_failure_is_a_json_500_without_details(api, monkeypatch):
    from chalicelib.services import accounts

    def boom(*args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(accounts, "signup", boom)
    response = api.post("/v1/accounts", {"email": "a@example.com", "password": PASSWORD})
    assert response.status_code == 500
    assert response.json == {"error": "internal_error", "message": "Something went wrong on our side."}


@pytest.mark.parametrize("path", ["/v1/account", "/v1/account/sessions"])
@pytest.mark.parametrize("cookie", ["__Host-mfa_session=", "__Host-mfa_session=" + "x" * 5000, "garbage;;;=",
                                    "__Host-mfa_session=\"a\\b\""])
def test_bad_session_cookies_are_401(api, path, cookie):
    response = api.get(path, headers={"cookie": cookie}, browser=False)
    assert response.status_code == 401 and response.json["error"] == "unauthenticated"


def test_unknown_path_parameters_are_404_not_500(alice, api):
    assert api.post("/v1/login/" + "x" * 3000 + "/verify", {"method_id": "a" * 32, "code": "123456"}).status_code == 404
    assert api.delete("/v1/account/sessions/" + "y" * 3000).status_code == 404
    assert api.post("/v1/account/methods/" + "z" * 3000 + "/confirm", {"code": "123456"}).status_code == 404


def test_openapi_document_lists_every_route(api, app_module):
    document = api.get("/openapi.json").json
    assert document["openapi"] == "3.1.0"
    served = {(path, method.lower()) for path, methods in app_module.app.routes.items()
              for method in methods if method != "OPTIONS"}
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert served == documented
    signup = document["paths"]["/v1/accounts"]["post"]
    schema_name = signup["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(document["components"]["schemas"][schema_name]["properties"]) == {"email", "password"}
    assert "202" in signup["responses"]


def test_openapi_document_is_valid(api):
    from openapi_spec_validator import validate

    validate(api.get("/openapi.json").json)


# The routes that count hits against a limit (ledger/limits.py, methods/push.py, the
# second-factor lockout's verification_in_progress).
RATE_LIMITED = [("post", "/v1/accounts"), ("post", "/v1/accounts/verification-email"), ("post", "/v1/login"),
                ("post", "/v1/login/{login_id}/verify"), ("post", "/v1/login/{login_id}/push"),
                ("post", "/v1/login/{login_id}/challenges"), ("post", "/v1/account/step-up"),
                ("post", "/v1/account/step-up/push"), ("post", "/v1/account/step-up/challenges"),
                ("post", "/v1/account/password"), ("post", "/v1/password-resets"), ("post", "/v1/account/methods"),
                ("post", "/v1/devices"), ("post", "/v1/cli/logins"), ("post", "/v1/cli/logins/approve"),
                ("get", "/v1/cli/logins/{user_code}"), ("post", "/v1/sso/start")]


def test_openapi_document_declares_the_limits_and_rules(api):
    document = api.get("/openapi.json").json
    paths, schemas = document["paths"], document["components"]["schemas"]
    for method, path in RATE_LIMITED:
        too_many = paths[path][method]["responses"]["429"]
        assert "Retry-After" in too_many["headers"], (method, path)
    # Exactly one proof on the verify step and step-up.
    for path in ("/v1/login/{login_id}/verify", "/v1/account/step-up"):
        ref = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        proofs = schemas[ref.rsplit("/", 1)[1]]
        assert len(proofs["oneOf"]) >= 3 and "anyOf" not in proofs
    scope = paths["/v1/account/sessions"]["delete"]["parameters"]
    assert [(p["name"], p["in"], p["required"], p["schema"]) for p in scope] == [
        ("scope", "query", True, {"type": "string", "enum": ["others"]})]
    for model, field in [("SignupRequest", "email"), ("LoginRequest", "email"), ("EmailChangeRequest", "new_email"),
                         ("PasswordResetRequest", "email"), ("ResendVerificationRequest", "email")]:
        assert schemas[model]["properties"][field]["format"] == "email", (model, field)
    not_allowed = document["components"]["responses"]["MethodNotAllowed"]
    assert not_allowed["headers"]["Allow"]["required"] is True and "405" in document["info"]["description"]


def test_a_body_is_required_only_where_the_model_needs_fields(api):
    paths = api.get("/openapi.json").json["paths"]
    assert paths["/v1/account/recovery-codes"]["post"]["requestBody"]["required"] is False
    assert paths["/v1/account/methods/totp"]["post"]["requestBody"]["required"] is False
    assert paths["/v1/login"]["post"]["requestBody"]["required"] is True
    # No body at all is read as {}: the route answers as it does to {}.
    assert api.request("POST", "/v1/login", raw=b"").json["error"] == "invalid_request"


def test_other_odd_cookies_on_the_domain_do_not_log_the_user_out(alice, api):
    token = api.cookies["__Host-mfa_session"]
    for header in (f'prefs={{"a":1}}; __Host-mfa_session={token}', f"x=a b; __Host-mfa_session={token}",
                   f"__Host-mfa_session={token}; x=é", f"x=a b;__Host-mfa_session={token};y"):
        assert api.get("/v1/account", headers={"cookie": header}, browser=False).status_code == 200


def test_deeply_nested_json_is_400_not_500(api):
    raw = b'{"a":' + b"[" * 30000 + b"]" * 30000 + b"}"
    response = api.request("POST", "/v1/login", raw=raw)
    assert response.status_code == 400 and response.json["error"] == "malformed_json"


def test_email_local_part_is_lower_cased_without_turning_into_another_address(api):
    api.post("/v1/accounts", {"email": "Straße@Example.COM", "password": PASSWORD})
    messages = api.get("/_dev/mailbox").json["messages"]
    assert messages[0]["to"] == ["straße@example.com"]
