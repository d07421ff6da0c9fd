"""A wrong password costs the same work whether or not the email has an account: the same
argon2 check (a hash of the same parameters and encoding), the same DynamoDB calls and
writes of the same sizes, the same parsing of an account item. Timing itself is measured
in bench/password_timing.py, never here."""
import pytest

WRONG = "wrong password, long enough"
# As long as alice@example.com: keys and counters made from the email are of one size.
UNKNOWN = "nobod@example.com"


@pytest.fixture
def argon2_checks(monkeypatch):
    """The hashes argon2 checks a password against."""
    from argon2 import PasswordHasher

    checked = []
    verify = PasswordHasher.verify

    def recording(self, password_hash, password):
        checked.append(password_hash)
        return verify(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", recording)
    return checked


def encoding(password_hash: str) -> tuple:
    """An argon2 hash's variant, version and parameters, and the lengths of its salt and hash."""
    variant, version, parameters, salt, digest = password_hash.split("$")[1:]
    return variant, version, parameters, len(salt), len(digest)


def failed_password_steps(api, *emails: str) -> None:
    for email in emails:
        answer = api.post("/v1/login", {"email": email, "password": WRONG})
        assert answer.status_code == 401 and answer.json["error"] == "invalid_credentials"


def test_an_unknown_email_is_checked_against_a_hash_like_a_real_one(alice, api, argon2_checks):
    failed_password_steps(api, alice.email, UNKNOWN)
    real, dummy = argon2_checks
    assert real != dummy and encoding(dummy) == encoding(real)


def test_after_a_parameter_change_the_dummy_hash_follows_as_rehashed_ones_do(alice, api, argon2_checks,
                                                                               monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("ARGON2_MEMORY_KIB", "20480")
    monkeypatch.setenv("ARGON2_TIME_COST", "3")
    get_settings.cache_clear()
    assert alice.password_step().status_code == 200   # rehashed with the new parameters
    failed_password_steps(api, alice.email, UNKNOWN)
    old, real, dummy = argon2_checks
    assert encoding(dummy) == encoding(real) != encoding(old)
    assert encoding(dummy)[2] == "m=20480,t=3,p=1"


def test_the_dummy_hash_is_never_right():
    """Not even for the password it was made from."""
    from chalicelib import passwords

    assert passwords.verify_password(None, "not a real password, used for timing only") is False


def shape(value):
    """A request as its sizes: each string by its length, each number by its digits."""
    if isinstance(value, dict):
        return {key: shape(v) for key, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [shape(v) for v in value]
    if isinstance(value, (str, bytes)):
        return len(value)
    return type(value).__name__


@pytest.fixture
def dynamodb_calls(local_aws):
    """Each DynamoDB request the service makes: its operation and its parameters."""
    from chalicelib import aws

    calls = []

    def record(params, model, **_):
        calls.append((model.name, params))

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb.*", record)
    yield calls
    aws.client("dynamodb").meta.events.unregister("provide-client-params.dynamodb.*", record)


def test_both_failures_make_the_same_calls_and_writes_of_one_size(alice, api, dynamodb_calls):
    shapes = {}
    for email in (alice.email, UNKNOWN):
        dynamodb_calls.clear()
        failed_password_steps(api, email)
        # The counting write and the read run side by side: in either order.
        shapes[email] = sorted((str(shape(params)), name) for name, params in dynamodb_calls)
        assert {"BatchGetItem", "PutItem"} <= {name for name, _ in dynamodb_calls}   # the read, the event
    assert shapes[alice.email] == shapes[UNKNOWN]


@pytest.fixture
def parsed_items(monkeypatch):
    """The items botocore's parsers read out of DynamoDB's answers: their attributes and types."""
    from botocore import parsers

    items = []
    parse = parsers.ResponseParser.parse

    def recording(self, response, shape):
        parsed = parse(self, response, shape)
        for found in (parsed.get("Responses") or {}).values():
            items.extend({name: next(iter(value)) for name, value in item.items()} for item in found)
        return parsed

    monkeypatch.setattr(parsers.ResponseParser, "parse", recording)
    return items


def test_an_unknown_email_parses_an_item_like_an_accounts(alice, api, parsed_items):
    """Alice's account as most are: verified, with one method."""
    failed_password_steps(api, alice.email)
    [account] = parsed_items
    parsed_items.clear()
    failed_password_steps(api, UNKNOWN)
    [stand_in] = parsed_items
    assert stand_in == account
