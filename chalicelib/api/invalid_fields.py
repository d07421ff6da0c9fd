"""A request body pydantic refused, told in plain words: the 400 invalid_request's `message`
is read by people (the web frontend shows it), so it names each field as a person would and
says what is wrong with it; pydantic's own wording stays in `details` for developers."""
from pydantic import ValidationError

from chalicelib import errors

# Field names a person would not read as they are.
FIELD_WORDS = {"email": "email address", "new_email": "new email address", "method_id": "method",
               "client_name": "client name", "user_code": "code", "body": "request"}


def field_words(location: tuple) -> str:
    names = [str(part) for part in location if not isinstance(part, int)]
    name = names[-1] if names else "body"
    return FIELD_WORDS.get(name, name.replace("_", " "))


def _characters(count) -> str:
    return f"{count} character{'' if count == 1 else 's'}"


def problem_words(error: dict) -> str:
    """What is wrong with one field, as the end of a sentence that starts with its name."""
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "is missing"
    if kind == "string_too_short":
        return "is empty" if context.get("min_length") == 1 else \
            f"is too short: at least {_characters(context.get('min_length'))}"
    if kind == "string_too_long":
        return f"is too long: at most {_characters(context.get('max_length'))}"
    if kind in ("value_error", "assertion_error"):
        # Our validators' own sentences (and email-validator's), without pydantic's prefix.
        reason = str(context.get("error") or error["msg"]).removeprefix("Value error, ").rstrip(".")
        return f"is not valid: {reason[:1].lower()}{reason[1:]}"
    if kind in ("int_parsing", "int_type", "float_parsing", "int_from_float"):
        return "must be a whole number"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return "is out of range"
    if kind in ("literal_error", "enum"):
        return f"must be one of {context.get('expected', 'the allowed values')}"
    if kind == "extra_forbidden":
        return "is not expected here"
    if kind.endswith("_type"):
        return "has the wrong type"
    return "is not valid"


def refused(error: ValidationError) -> errors.ApiError:
    """400 invalid_request: a sentence per field for people, pydantic's detail beside it."""
    found = error.errors(include_url=False, include_input=False)
    details = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "problem": e["msg"]} for e in found]
    sentences = []
    for e in found:
        sentence = f"The {field_words(e['loc'])} {problem_words(e)}."
        if sentence not in sentences:
            sentences.append(sentence)
    return errors.invalid_request(" ".join(sentences) or "The request is not valid.", details)
