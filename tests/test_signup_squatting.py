"""Sign-up that nobody can block and that survives a lost email: each verification link carries
its own sign-up (account id, password hash), so a squatter's sign-ups take nothing from the
owner's link; the first link of an address used makes the account and the others then say the
address is verified; a link from before the address's account was deleted makes nothing; a
sign-up during an SES outage answers as any other and its email is sent (once) when SES is
back; one failed by another outage answers 503, does not spend the sign-up limit, and is
mended by signing up again."""
import pytest

from tests.support.faults import ALWAYS, UNAVAILABLE
from tests.support.journeys import PASSWORD, Person, mailbox, token_in
from tests.support.outbox import sweep
from tests.support.table import account_item

EMAIL = "bob@example.com"
SQUATTER_PASSWORD = "squatters own passphrase 1"
SQUATTER, OWNER = "Squatter/1.0", "Owner/2.0"
VERIFY = "Verify your email address"


def sign_up(api, password: str = PASSWORD, user_agent: str = OWNER):
    return api.post("/v1/accounts", {"email": EMAIL, "password": password}, headers={"user-agent": user_agent})


def links_from(api, user_agent: str) -> list[str]:
    """The tokens of the verification emails whose sign-up came from this user agent, newest first."""
    return [token_in(m["links"][0]) for m in mailbox(api, EMAIL, VERIFY) if user_agent in m["text"]]


def verify(api, token: str):
    return api.post("/v1/accounts/verify-email", {"token": token})


def logs_in(api, clock, password: str) -> bool:
    return Person(api, clock, EMAIL, password).password_step().status_code == 200


@pytest.fixture
def ses(monkeypatch):
    """notify.send with SES that can be taken down and brought back."""
    from botocore.exceptions import ClientError

    from chalicelib import notify

    working_send = notify.send
    state = {"down": False}

    def send(*args, **kwargs):
        if state["down"]:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "SES is down"}}, "SendRawEmail")
        return working_send(*args, **kwargs)

    monkeypatch.setattr(notify, "send", send)
    return state


def test_the_owners_link_works_whatever_a_squatter_did_before_and_after(api, clock):
    assert sign_up(api, SQUATTER_PASSWORD, SQUATTER).status_code == 202
    clock.advance(3600)
    assert sign_up(api).status_code == 202
    clock.advance(3600)
    assert sign_up(api, SQUATTER_PASSWORD, SQUATTER).status_code == 202
    assert api.post("/v1/accounts/verification-email", {"email": EMAIL},
                    headers={"user-agent": SQUATTER}).status_code == 202
    [owners] = links_from(api, OWNER)
    squatters = links_from(api, SQUATTER)
    assert len(squatters) == 3
    # Each email says when and from what client its sign-up was made, so the owner can tell.
    [owner_mail] = [m for m in mailbox(api, EMAIL, VERIFY) if OWNER in m["text"]]
    assert "When: " in owner_mail["text"] and SQUATTER not in owner_mail["text"]

    assert verify(api, owners).status_code == 200
    assert logs_in(api, clock, PASSWORD)
    assert not logs_in(api, clock, SQUATTER_PASSWORD)
    stored = account_item(EMAIL)
    assert stored["email_verified"]["BOOL"] is True and "expires_at" not in stored and stored["methods"]["M"] == {}
    # Every squatter's link now says the address is verified, and changes nothing.
    for token in squatters:
        refused = verify(api, token)
        assert refused.status_code == 409 and refused.json["error"] == "email_already_verified"
    assert logs_in(api, clock, PASSWORD) and not logs_in(api, clock, SQUATTER_PASSWORD)
    # A squatter's sign-up now only tells the owner, and the owner's link answers as before.
    assert sign_up(api, SQUATTER_PASSWORD, SQUATTER).status_code == 202
    assert mailbox(api, EMAIL)[0]["subject"] == "Someone tried to sign up with your email address"
    assert verify(api, owners).status_code == 200


def test_two_links_used_at_once_make_exactly_one_account(make_client, clock, race):
    """Staged: the squatter's link has read its sign-up and is about to write when the
    owner's link makes the account."""
    from chalicelib import store

    api = make_client()
    sign_up(api, SQUATTER_PASSWORD, SQUATTER)
    sign_up(api)
    [squatters], [owners] = links_from(api, SQUATTER), links_from(api, OWNER)
    first, second = make_client(), make_client()
    results = race(lambda: verify(first, squatters).json["error"],
                   lambda: verify(second, owners).status_code,
                   pause_before=(store, "transact"))
    assert results == ["email_already_verified", 200]
    assert logs_in(api, clock, PASSWORD) and not logs_in(api, clock, SQUATTER_PASSWORD)


def test_a_squatters_sign_up_while_the_owners_link_is_being_used_takes_nothing(make_client, clock, race):
    """Staged: the owner's link has read its sign-up and is about to write when the squatter
    signs up again, over the pending item."""
    from chalicelib import store

    api = make_client()
    sign_up(api)
    [owners] = links_from(api, OWNER)
    squatter = make_client()
    results = race(lambda: verify(make_client(), owners).status_code,
                   lambda: sign_up(squatter, SQUATTER_PASSWORD, SQUATTER).status_code,
                   pause_before=(store, "transact"))
    assert results == [200, 202]
    assert logs_in(api, clock, PASSWORD) and not logs_in(api, clock, SQUATTER_PASSWORD)
    [squatters] = links_from(api, SQUATTER)
    assert verify(api, squatters).json["error"] == "email_already_verified"


def test_a_link_from_before_the_account_was_deleted_makes_nothing(api, clock):
    assert sign_up(api, SQUATTER_PASSWORD, SQUATTER).status_code == 202
    [squatters] = links_from(api, SQUATTER)
    clock.advance(60)
    assert sign_up(api).status_code == 202
    [owners] = links_from(api, OWNER)
    assert verify(api, owners).status_code == 200
    owner = Person(api, clock, EMAIL, PASSWORD)
    assert owner.password_step().status_code == 200
    owner.enroll_totp()
    assert owner.step_up().status_code == 200
    assert api.delete("/v1/account", {"confirm": True}).status_code == 200
    # The address has no account: the squatter's link, still unexpired, does not make one;
    # the owner's used link went with the account.
    assert verify(api, squatters).json["error"] == "invalid_token"
    assert verify(api, owners).json["error"] == "invalid_token"
    # Nor once someone signs up with the address again: the link is older than that sign-up.
    clock.advance(60)
    assert sign_up(api, "a new owners passphrase 7", "Newcomer/3.0").status_code == 202
    assert verify(api, squatters).json["error"] == "invalid_token"
    assert not logs_in(api, clock, SQUATTER_PASSWORD)
    assert verify(api, links_from(api, "Newcomer/3.0")[0]).status_code == 200
    assert logs_in(api, clock, "a new owners passphrase 7")


def test_a_signup_during_an_ses_outage_answers_as_usual_and_its_link_arrives_once_ses_is_back(
        api, app_module, clock, ses):
    ses["down"] = True
    assert sign_up(api).status_code == 202
    assert mailbox(api, EMAIL) == []
    clock.advance(60)
    assert sweep(app_module)["failed"] == 1
    ses["down"] = False
    assert sweep(app_module)["delivered"] == 1
    assert sweep(app_module)["listed"] == 0
    [mail] = mailbox(api, EMAIL)
    assert mail["subject"] == VERIFY
    assert verify(api, token_in(mail["links"][0])).status_code == 200
    assert logs_in(api, clock, PASSWORD)


def test_with_ses_down_an_address_with_an_account_answers_as_one_without(api, app_module, clock, ses):
    Person(api, clock, EMAIL).sign_up()
    ses["down"] = True
    taken = sign_up(api, "another long passphrase 42")
    free = api.post("/v1/accounts", {"email": "carol@example.com", "password": PASSWORD})
    assert (taken.status_code, taken.json) == (free.status_code, free.json) == (202, free.json)
    ses["down"] = False
    clock.advance(60)
    assert sweep(app_module)["delivered"] == 2
    assert mailbox(api, EMAIL)[0]["subject"] == "Someone tried to sign up with your email address"
    assert mailbox(api, "carol@example.com")[0]["subject"] == VERIFY


def test_signups_failed_by_an_outage_do_not_spend_the_signup_limit(api, faults):
    faults.fail("kms", UNAVAILABLE, times=ALWAYS)
    assert [sign_up(api).status_code for _ in range(5)] == [503] * 5
    faults.clear()
    assert [sign_up(api).status_code for _ in range(6)] == [202] * 5 + [429]


def test_signups_refused_for_a_rule_still_spend_it(api):
    assert [sign_up(api, "short pass").status_code for _ in range(5)] == [400] * 5
    assert sign_up(api).status_code == 429


def test_a_failing_signup_holds_its_hit_until_it_fails_then_gives_it_back(make_client, faults, race):
    """Staged: one sign-up has counted its hit and is about to seal its link while five more
    arrive: only four pass (the limit is 5, exactly, mid-flight); then KMS fails it (its
    container must unwrap the data key again), and its hit comes back for the next sign-up."""
    from chalicelib.ledger import secrets

    clients = [make_client() for _ in range(6)]

    def take_kms_down():
        secrets.forget_keys()
        faults.fail("kms", UNAVAILABLE, times=ALWAYS)

    results = race(lambda: sign_up(clients[0]).status_code,
                   *[lambda api=api: sign_up(api).status_code for api in clients[1:]],
                   take_kms_down,
                   pause_before=(secrets, "seal"))
    assert results == [503, 202, 202, 202, 202, 429, None]
    faults.clear()
    assert [sign_up(clients[0]).status_code for _ in range(2)] == [202, 429]
