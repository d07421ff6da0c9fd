"""A refused request body is told in plain words: the 400 invalid_request's `message` names
each field as a person would and says what is wrong, without pydantic's wording ("String
should have...", "Value error, ..."), which stays in `details` for developers."""
import pytest

PYDANTIC_WORDING = ("String should", "Value error", "Field required", "Input should")


def refused(response) -> dict:
    assert (response.status_code, response.json["error"]) == (400, "invalid_request"), response.json
    assert not any(words in response.json["message"] for words in PYDANTIC_WORDING), response.json["message"]
    return response.json


@pytest.mark.parametrize(("body", "message", "field"), [
    ({"email": "ab", "password": "x"}, "The email address is too short: at least 3 characters.", "email"),
    ({"email": "alice.example.com", "password": "x"},
     "The email address is not valid: an email address must have an @-sign.", "email"),
    ({"email": "alice@example.com"}, "The password is missing.", "password"),
    ({"email": "alice@example.com", "password": ""}, "The password is empty.", "password"),
])
def test_the_login_form_is_told_which_field_and_why(api, body, message, field):
    answered = refused(api.post("/v1/login", body))
    assert answered["message"] == message
    [detail] = answered["details"]
    assert detail["field"] == field and detail["problem"]   # pydantic's wording, for developers


def test_every_refused_field_gets_its_sentence_once(api):
    answered = refused(api.post("/v1/accounts", {"email": "x", "password": 5}))
    assert answered["message"].startswith("The email address is too short: at least 3 characters.")
    assert "The password has the wrong type." in answered["message"]
    assert {d["field"] for d in answered["details"]} == {"email", "password"}


def test_a_body_that_is_not_an_object_says_so(api):
    answered = refused(api.post("/v1/login", ["alice@example.com"]))
    assert answered["message"] == "The request body must be a JSON object."
