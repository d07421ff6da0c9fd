"""The account's email address: resending the verification link, and changing the address
(step-up, a confirmation link to the new address, no enumeration, the swap race)."""
from tests.support.journeys import PASSWORD, Person, mailbox, token_in, verification_token
from tests.support.table import account_item, items_of

NEW = "alice.new@example.com"
CONFIRM_SUBJECT = "Confirm your new email address"


def change_link(api, to: str = NEW) -> str:
    return token_in(mailbox(api, to, CONFIRM_SUBJECT)[0]["links"][0])


def ask_change(person: Person, new_email: str = NEW):
    person.step_up()
    return person.api.post("/v1/account/email", {"new_email": new_email})


# ---------------------------------------------------------------- resending the verification link

def test_resend_answers_the_same_for_unknown_unverified_and_verified(api, make_client, clock):
    Person(api, clock, "bob@example.com").sign_up(verify=False)
    Person(api, clock, "carol@example.com").sign_up()
    answers = [api.post("/v1/accounts/verification-email", {"email": email})
               for email in ("bob@example.com", "carol@example.com", "nobody@example.com")]
    assert len({(a.status_code, repr(a.json)) for a in answers}) == 1
    assert answers[0].status_code == 202
    assert len(mailbox(api, "bob@example.com", "Verify your email")) == 2
    assert len(mailbox(api, "carol@example.com", "Verify your email")) == 1
    assert mailbox(api, "nobody@example.com") == []


def test_a_resent_link_works_and_the_earlier_one_still_does(api, clock):
    """A resend, which anyone may ask for, takes no link away; the new one finishes the same
    sign-up, and its email says when and from where that sign-up was made."""
    bob = Person(api, clock, "bob@example.com").sign_up(verify=False)
    old = verification_token(api, bob.email)
    signed_up = mailbox(api, bob.email, "Verify your email")[0]["text"]
    clock.advance(3600)
    assert api.post("/v1/accounts/verification-email", {"email": bob.email},
                    headers={"user-agent": "someone else/1.0"}).status_code == 202
    resent = mailbox(api, bob.email, "Verify your email")[0]
    new = token_in(resent["links"][0])
    assert new != old
    when_and_where = signed_up[signed_up.index("When:"):signed_up.index("\n\nThe link works")]
    assert when_and_where in resent["text"] and "someone else" not in resent["text"]
    assert bob.password_step().json["error"] == "email_not_verified"
    assert api.post("/v1/accounts/verify-email", {"token": old}).status_code == 200
    assert bob.password_step().status_code == 200
    # The other link of the same sign-up answers as a retry would: the address is verified.
    assert api.post("/v1/accounts/verify-email", {"token": new}).status_code == 200


def test_resent_link_expires_with_the_unverified_account(api, clock):
    bob = Person(api, clock, "bob@example.com").sign_up(verify=False)
    clock.advance(23 * 3600)
    api.post("/v1/accounts/verification-email", {"email": bob.email})
    token = verification_token(api, bob.email)
    clock.advance(3600)
    assert api.post("/v1/accounts/verify-email", {"token": token}).json["error"] == "invalid_token"


def test_resend_is_rate_limited_per_email(api, clock):
    Person(api, clock, "bob@example.com").sign_up(verify=False)
    statuses = [api.post("/v1/accounts/verification-email", {"email": "bob@example.com"}).status_code
                for _ in range(6)]
    assert statuses == [202] * 5 + [429]
    # Another address from the same client is counted apart (up to the per-IP limit).
    assert api.post("/v1/accounts/verification-email", {"email": "dan@example.com"}).status_code == 202


def test_resend_is_rate_limited_per_ip(api, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setattr(get_settings(), "signup_limit_per_ip", 3)
    statuses = [api.post("/v1/accounts/verification-email", {"email": f"u{i}@example.com"}).status_code
                for i in range(4)]
    assert statuses == [202] * 3 + [429]


# ---------------------------------------------------------------- changing the address

def test_change_needs_a_full_session_and_step_up(alice, api, clock, make_client):
    anonymous = make_client().post("/v1/account/email", {"new_email": NEW})
    assert anonymous.status_code == 401
    clock.advance(11 * 60)
    stale = api.post("/v1/account/email", {"new_email": NEW})
    assert stale.status_code == 403 and stale.json["error"] == "step_up_required"
    assert mailbox(api, NEW) == []


def test_change_mails_the_new_address_and_tells_the_old_one(alice, api):
    answer = ask_change(alice)
    assert answer.status_code == 202
    assert mailbox(api, NEW, CONFIRM_SUBJECT)[0]["links"][0].startswith("http://localhost:8000/confirm-email#token=")
    told = mailbox(api, alice.email, "A change of your email address was requested")
    assert len(told) == 1 and NEW in told[0]["text"]
    # Nothing changed yet.
    assert api.get("/v1/account").json["email"] == alice.email


def test_taken_address_answers_as_a_free_one_and_its_owner_is_told(alice, api, make_client, clock):
    Person(make_client(), clock, "bob@example.com").sign_up()
    free = ask_change(alice, NEW)
    taken = ask_change(alice, "bob@example.com")
    assert (free.status_code, free.json) == (taken.status_code, taken.json)
    assert mailbox(api, "bob@example.com", CONFIRM_SUBJECT) == []
    assert len(mailbox(api, "bob@example.com", "Someone tried to move an account to your email address")) == 1
    # The old address is told the same way both times.
    assert len(mailbox(api, alice.email, "A change of your email address was requested")) == 2


def test_confirmed_change_moves_the_login_and_ends_sessions(alice, api, make_client, clock):
    other = alice.in_another_browser(make_client())
    clock.advance(30)
    assert other.login().status_code == 200
    ask_change(alice)
    confirmed = make_client().post("/v1/account/email/confirm", {"token": change_link(api)})
    assert confirmed.status_code == 200 and confirmed.json["email"] == NEW
    # Every session ended (as stored, not only refused by the account's new key).
    assert items_of(sk="SESSION") == []
    assert api.get("/v1/account").status_code == 401
    assert other.api.get("/v1/account").status_code == 401
    # The old address logs in no more; the new one does, with the second factor.
    assert alice.password_step().json["error"] == "invalid_credentials"
    alice.email = NEW
    clock.advance(30)
    started = alice.password_step()
    assert started.status_code == 200 and "login_id" in started.json
    assert alice.verify(started.json["login_id"]).status_code == 200
    assert api.get("/v1/account").json["email"] == NEW
    # The old address had its final notice.
    final = mailbox(api, "alice@example.com", "Your email address was changed")
    assert len(final) == 1 and NEW in final[0]["text"]
    # And it is free for a new sign-up.
    assert Person(make_client(), clock, "alice@example.com").sign_up().password_step().status_code == 200


def test_change_link_is_single_use(alice, api, make_client):
    ask_change(alice)
    token = change_link(api)
    assert make_client().post("/v1/account/email/confirm", {"token": token}).status_code == 200
    again = make_client().post("/v1/account/email/confirm", {"token": token})
    assert again.status_code == 400 and again.json["error"] == "invalid_token"


def test_change_link_expires_after_24_hours(alice, api, make_client, clock):
    ask_change(alice)
    token = change_link(api)
    clock.advance(24 * 3600)
    late = make_client().post("/v1/account/email/confirm", {"token": token})
    assert late.status_code == 400 and late.json["error"] == "invalid_token"
    assert alice.password_step().status_code == 200


def test_only_the_newest_change_link_works(alice, api, make_client):
    ask_change(alice, "first@example.com")
    first = change_link(api, "first@example.com")
    ask_change(alice, "second@example.com")
    refused = make_client().post("/v1/account/email/confirm", {"token": first})
    assert refused.status_code == 400 and refused.json["error"] == "invalid_token"
    assert make_client().post("/v1/account/email/confirm",
                              {"token": change_link(api, "second@example.com")}).status_code == 200


def test_verification_token_does_not_confirm_a_change(api, make_client, clock):
    Person(api, clock, "bob@example.com").sign_up(verify=False)
    token = verification_token(api, "bob@example.com")
    refused = make_client().post("/v1/account/email/confirm", {"token": token})
    assert refused.status_code == 400 and refused.json["error"] == "invalid_token"


def test_an_unverified_sign_up_of_the_new_address_does_not_block_a_change(alice, api, make_client, clock):
    """Whoever signed up with the address cannot read its mail; the change's link proves its
    reader. The pending sign-up gives way, before the link is sent and when it is used."""
    squatter = make_client()
    Person(squatter, clock, NEW, "squatters own passphrase 1").sign_up(verify=False)
    squatters_link = verification_token(api, NEW)
    ask_change(alice)
    token = change_link(api)
    Person(squatter, clock, NEW, "squatters own passphrase 1").sign_up(verify=False)
    assert make_client().post("/v1/account/email/confirm", {"token": token}).status_code == 200
    alice.email = NEW
    assert alice.password_step().status_code == 200
    refused = make_client().post("/v1/accounts/verify-email", {"token": squatters_link})
    assert refused.status_code == 409 and refused.json["error"] == "email_already_verified"
    assert Person(squatter, clock, NEW, "squatters own passphrase 1").password_step().status_code == 401


def test_address_taken_before_the_link_is_used(alice, api, make_client, clock):
    ask_change(alice)
    token = change_link(api)
    Person(make_client(), clock, NEW).sign_up()
    refused = make_client().post("/v1/account/email/confirm", {"token": token})
    assert refused.status_code == 409 and refused.json["error"] == "email_taken"
    assert alice.password_step().status_code == 200


def test_two_accounts_racing_for_one_address_one_wins(alice, api, make_client, clock, race):
    """Staged: alice's confirmation has read her account and the free address, and is about
    to write, when bob's confirmation moves his account there."""
    from chalicelib import store

    bob = Person(make_client(), clock, "bob@example.com").onboard()
    ask_change(alice)
    alice_token = change_link(api)
    ask_change(bob)
    bob_token = mailbox(api, NEW, CONFIRM_SUBJECT)[0]["links"][0]
    assert token_in(bob_token) != alice_token
    first, second = make_client(), make_client()
    results = race(lambda: first.post("/v1/account/email/confirm", {"token": alice_token}).status_code,
                   lambda: second.post("/v1/account/email/confirm", {"token": token_in(bob_token)}).status_code,
                   pause_before=(store, "transact"))
    assert results == [409, 200]
    # The address is bob's; alice keeps hers.
    assert store.get_account(NEW, int(clock.now()))["account_id"] != store.get_account(
        "alice@example.com", int(clock.now()))["account_id"]
    assert alice.password_step().status_code == 200
    bob.email = NEW
    assert bob.password_step().status_code == 200


def test_change_is_rate_limited_per_account(alice, api):
    statuses = [ask_change(alice, f"n{i}@example.com").status_code for i in range(6)]
    assert statuses == [202] * 5 + [429]


def test_same_address_refused(alice, api):
    refused = ask_change(alice, alice.email)
    assert refused.status_code == 400 and refused.json["error"] == "same_email"


def test_password_is_kept_across_the_change(alice, api, make_client):
    ask_change(alice)
    make_client().post("/v1/account/email/confirm", {"token": change_link(api)})
    assert Person(make_client(), None, NEW, PASSWORD).password_step().status_code == 200
    assert Person(make_client(), None, NEW, "a wrong but long password").password_step().status_code == 401


def test_a_login_begun_with_the_old_address_cannot_finish_after_the_change(alice, api, make_client, clock):
    """A login started before the change would make a session carrying the old address, which
    may later be someone else's: its verify step is refused (the account item it was begun
    on is gone), and nothing is written at the old address's next owner."""
    login_id = alice.start_login()
    ask_change(alice)
    assert make_client().post("/v1/account/email/confirm", {"token": change_link(api)}).status_code == 200
    clock.advance(30)
    refused = alice.verify(login_id)
    assert refused.status_code == 410 and refused.json["error"] == "login_expired"
    Person(make_client(), clock, "alice@example.com").sign_up()
    assert api.get("/v1/account").status_code == 401
    assert api.post("/v1/account/methods/totp", {"label": "Stale"}).status_code == 401
    assert account_item("alice@example.com")["methods"]["M"] == {}


def test_a_paired_phone_keeps_working_after_the_change(alice, api, make_client, clock):
    """Device items carry the account's email (an unpairing removes the method through it):
    the change moves them along."""
    from tests.support.phone import Phone, pair_phone

    alice.step_up()
    phone = Phone(make_client(origin=None), clock)
    pair_phone(alice, phone)
    ask_change(alice)
    assert make_client().post("/v1/account/email/confirm", {"token": change_link(api)}).status_code == 200
    assert phone.signed("DELETE", f"/v1/devices/{phone.device_id}").status_code == 200
    assert mailbox(api, NEW, "verification method was removed")


def test_change_is_rate_limited_per_ip(alice, api, make_client, clock, monkeypatch):
    from chalicelib.services import email_address

    monkeypatch.setattr(email_address, "CHANGE_LIMIT_PER_IP", 2)
    bob = Person(make_client(), clock, "bob@example.com").onboard()
    assert [ask_change(alice, f"a{i}@example.com").status_code for i in range(2)] == [202, 202]
    assert ask_change(bob, "b@example.com").status_code == 429


def test_a_taken_and_a_free_address_cost_the_same_work(alice, api, make_client, clock):
    """The same AWS calls, in the same order, for a taken and a free new address (timing
    follows the round trips)."""
    from chalicelib import aws

    Person(make_client(), clock, "bob@example.com").sign_up()
    calls = []

    def count(model, **_):
        calls.append(model.name)

    alice.step_up()
    for service in ("dynamodb", "ses"):
        aws.client(service).meta.events.register("before-call.*", count)
    assert api.post("/v1/account/email", {"new_email": "bob@example.com"}).status_code == 202
    taken, calls[:] = list(calls), []
    assert api.post("/v1/account/email", {"new_email": NEW}).status_code == 202
    assert taken == calls and calls.count("SendRawEmail") == 2
