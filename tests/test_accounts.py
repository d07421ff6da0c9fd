"""Sign-up, email verification, password policy, account view."""
import pytest

from tests.support.journeys import PASSWORD, Person, mailbox, verification_token
from tests.support.table import account_item


def test_signup_answers_202_and_sends_verification_email(api):
    response = api.post("/v1/accounts", {"email": "  Bob@Example.COM ", "password": PASSWORD})
    assert response.status_code == 202
    messages = mailbox(api, "bob@example.com")
    assert len(messages) == 1
    assert messages[0]["subject"] == "Verify your email address"
    assert messages[0]["links"][0].startswith("http://localhost:8000/verify-email#token=")


def test_existing_email_gets_same_answer_and_owner_is_told(api, clock):
    Person(api, clock, "bob@example.com").sign_up()
    existing = api.post("/v1/accounts", {"email": "BOB@example.com", "password": "another long passphrase 42"})
    new = api.post("/v1/accounts", {"email": "carol@example.com", "password": PASSWORD})
    assert (existing.status_code, existing.json) == (new.status_code, new.json)
    subjects = [m["subject"] for m in mailbox(api, "bob@example.com")]
    assert subjects == ["Someone tried to sign up with your email address", "Verify your email address"]
    # The existing account's password was not replaced.
    assert Person(api, None, "bob@example.com", "another long passphrase 42").password_step().status_code == 401


def test_verification_token_is_single_use_and_a_retry_answers_the_same(api, clock):
    """Used again (a retry whose answer was lost), the link answers as it did, and changes
    nothing: the account made by its first use keeps what it has gained since."""
    person = Person(api, clock, "bob@example.com").sign_up(verify=False)
    token = verification_token(api, "bob@example.com")
    first = api.post("/v1/accounts/verify-email", {"token": token})
    assert (first.status_code, first.json) == (200, {"status": "ok", "already_verified": False})
    assert person.password_step().status_code == 200
    person.enroll_totp()
    again = api.post("/v1/accounts/verify-email", {"token": token})
    assert (again.status_code, again.json) == (200, {"status": "ok", "already_verified": True})
    assert api.get("/v1/account").json["methods_count"] == 1


def test_verification_token_expires_after_24_hours(api, clock):
    api.post("/v1/accounts", {"email": "bob@example.com", "password": PASSWORD})
    token = verification_token(api, "bob@example.com")
    clock.advance(24 * 3600)
    late = api.post("/v1/accounts/verify-email", {"token": token})
    assert late.status_code == 400 and late.json["error"] == "invalid_token"


def test_unknown_token_refused(api):
    response = api.post("/v1/accounts/verify-email", {"token": "x" * 43})
    assert response.status_code == 400 and response.json["error"] == "invalid_token"


def test_unverified_account_cannot_pass_password_step(api, clock):
    person = Person(api, clock).sign_up(verify=False)
    response = person.password_step()
    assert response.status_code == 403 and response.json["error"] == "email_not_verified"
    # With a wrong password it looks like any other failure.
    person.password = "wrong but long enough password"
    assert person.password_step().json["error"] == "invalid_credentials"


@pytest.mark.parametrize("password, code", [
    ("short pass", "password_too_short"),
    ("x" * 257, "password_too_long"),
    ("qwertyuiopasdfgh", "password_too_common"),
    ("passwordpassword", "password_too_common"),
    ("123456789012", "password_too_common"),
])
def test_password_policy(api, password, code):
    response = api.post("/v1/accounts", {"email": "bob@example.com", "password": password})
    assert response.status_code == 400 and response.json["error"] == code
    assert mailbox(api, "bob@example.com") == []


def test_password_of_256_characters_is_accepted(api):
    password = "Zq8!" + "a9B$" * 63
    assert len(password) == 256
    assert api.post("/v1/accounts", {"email": "bob@example.com", "password": password}).status_code == 202


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "bob@@example.com", "bob@example..com", ""])
def test_invalid_email_refused(api, email):
    response = api.post("/v1/accounts", {"email": email, "password": PASSWORD})
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


def test_password_is_stored_as_argon2id_at_owasp_minimum(api, clock):
    Person(api, clock).sign_up()
    item = account_item("alice@example.com")
    stored = item["password_hash"]["S"]
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in str(item)


def test_account_view(alice, api):
    account = api.get("/v1/account").json
    assert account["email"] == "alice@example.com"
    assert account["verified"] is True
    assert account["methods_count"] == 1
    assert account["enrollment_required"] is False
    assert isinstance(account["created_at"], int) and len(account["id"]) == 32


def test_argon2_parameters_cannot_go_below_owasp_minimum(monkeypatch):
    from pydantic import ValidationError

    from chalicelib.config import get_settings

    monkeypatch.setenv("ARGON2_MEMORY_KIB", "4096")
    get_settings.cache_clear()
    with pytest.raises(ValidationError):
        get_settings()


def test_an_unverified_account_expires_with_its_link_and_frees_the_email(api, clock):
    squatter = Person(api, clock, "bob@example.com", "squatters own passphrase 1")
    squatter.sign_up(verify=False)
    old_token = verification_token(api, "bob@example.com")
    clock.advance(24 * 3600)
    # Still physically in the table (TTL is lazy), but expired: a new signup takes the email.
    owner = Person(api, clock, "bob@example.com", PASSWORD)
    owner.sign_up(verify=False)
    assert mailbox(api, "bob@example.com")[0]["subject"] == "Verify your email address"
    assert api.post("/v1/accounts/verify-email", {"token": old_token}).status_code == 400
    assert api.post("/v1/accounts/verify-email",
                    {"token": verification_token(api, "bob@example.com")}).status_code == 200
    assert squatter.password_step().status_code == 401
    assert owner.password_step().status_code == 200
    # Verified accounts do not expire.
    clock.advance(365 * 24 * 3600)
    assert owner.password_step().status_code == 200


def test_a_signup_over_an_unverified_one_gets_a_link_of_its_own(api, clock):
    Person(api, clock, "bob@example.com").sign_up(verify=False)
    clock.advance(23 * 3600)
    api.post("/v1/accounts", {"email": "bob@example.com", "password": "another long passphrase 42"})
    first, second = mailbox(api, "bob@example.com")
    assert first["subject"] == second["subject"] == "Verify your email address"
    assert first["links"] != second["links"]


def test_signup_emails_are_rate_limited_per_address(api, clock):
    for _ in range(5):
        assert api.post("/v1/accounts", {"email": "bob@example.com", "password": PASSWORD}).status_code == 202
    limited = api.post("/v1/accounts", {"email": "bob@example.com", "password": PASSWORD})
    assert limited.status_code == 429 and limited.json["error"] == "rate_limited"
    assert len(mailbox(api, "bob@example.com")) == 5
    clock.advance(3600)
    assert api.post("/v1/accounts", {"email": "bob@example.com", "password": PASSWORD}).status_code == 202
