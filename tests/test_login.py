"""Password step, mandatory enrolment, second factor with TOTP, attempts and lockout."""
import json

import pytest

from tests.support.http import set_cookies
from tests.support.journeys import PASSWORD, mailbox, totp_code
from tests.support.table import account_item


def test_wrong_email_and_wrong_password_look_the_same(alice, api):
    wrong_password = api.post("/v1/login", {"email": "alice@example.com", "password": "not the password at all"})
    wrong_email = api.post("/v1/login", {"email": "nobody@example.com", "password": PASSWORD})
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert wrong_password.json == wrong_email.json == {"error": "invalid_credentials",
                                                       "message": "The email or password is incorrect."}


def test_unknown_email_is_checked_against_a_dummy_hash(person, monkeypatch):
    from chalicelib import passwords

    calls = []
    real = passwords._current_hasher

    def counting():
        hasher = real()
        original = hasher.verify

        class Spy:
            def verify(self, h, p):
                calls.append(h)
                return original(h, p)

            def __getattr__(self, name):
                return getattr(hasher, name)
        return Spy()

    monkeypatch.setattr(passwords, "_current_hasher", counting)
    person.api.post("/v1/login", {"email": "nobody@example.com", "password": PASSWORD})
    assert len(calls) == 1 and calls[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_new_account_gets_restricted_session_until_a_method_is_enrolled(person, api):
    person.sign_up()
    started = person.password_step()
    assert started.status_code == 200
    assert started.json["enrollment_required"] is True
    assert started.json["login_id"] is None and started.json["methods"] == []
    # The restricted session reads its account and enrols, nothing else.
    assert api.get("/v1/account").json["enrollment_required"] is True
    refused = api.get("/v1/account/sessions")
    assert refused.status_code == 403 and refused.json["error"] == "mfa_enrollment_required"
    person.enroll_totp()
    # Confirming the first method replaced the restricted session by a full one.
    assert api.get("/v1/account/sessions").status_code == 200
    assert api.get("/v1/account").json["enrollment_required"] is False


def test_restricted_session_token_is_replaced_on_upgrade(person, api):
    person.sign_up()
    person.password_step()
    restricted_token = api.cookies["__Host-mfa_session"]
    person.enroll_totp()
    assert api.cookies["__Host-mfa_session"] != restricted_token
    old = api.get("/v1/account", headers={"cookie": f"__Host-mfa_session={restricted_token}"})
    assert old.status_code == 401


def test_enrolment_response_is_what_authenticator_apps_read(person, api):
    person.sign_up()
    person.password_step()
    started = api.post("/v1/account/methods/totp", {}).json
    assert started["otpauth_uri"].startswith("otpauth://totp/MFA%20Service:alice%40example.com?secret=")
    assert f"secret={started['secret']}" in started["otpauth_uri"]
    assert "issuer=MFA%20Service" in started["otpauth_uri"]
    assert started["qr_svg"].startswith("<svg")
    assert len(started["secret"]) == 32  # 160 bits in base32
    assert started["label"] == "Authenticator app"


def test_pending_enrolment_expires(person, api, clock):
    person.sign_up()
    person.password_step()
    started = api.post("/v1/account/methods/totp", {}).json
    clock.advance(16 * 60)
    late = api.post(f"/v1/account/methods/{started['method_id']}/confirm",
                    {"code": totp_code(started["secret"], clock.now())})
    assert late.status_code == 404 and late.json["error"] == "method_not_found"


def test_wrong_confirmation_code_keeps_enrolment_pending(person, api, clock):
    person.sign_up()
    person.password_step()
    started = api.post("/v1/account/methods/totp", {}).json
    bad = api.post(f"/v1/account/methods/{started['method_id']}/confirm", {"code": "000000"})
    assert bad.status_code == 401 and bad.json["error"] == "invalid_code"
    assert api.get("/v1/account").json["methods_count"] == 0
    good = api.post(f"/v1/account/methods/{started['method_id']}/confirm",
                    {"code": totp_code(started["secret"], clock.now())})
    assert good.status_code == 200 and good.json["method"]["status"] == "active"
    again = api.post(f"/v1/account/methods/{started['method_id']}/confirm",
                     {"code": totp_code(started["secret"], clock.now() + 30)})
    assert again.status_code == 409


def test_password_step_lists_methods(alice):
    started = alice.password_step().json
    assert started["enrollment_required"] is False
    assert started["methods"] == [{"id": alice.method_id, "type": "totp", "label": "Phone"}]
    assert started["expires_at"] == int(alice.clock.now()) + 300


def test_login_sets_secure_session_cookie(alice, api):
    api.cookies.clear()
    response = alice.login()
    assert response.status_code == 200
    assert response.json["kind"] == "web" and response.json["enrollment_required"] is False
    assert response.json["method_used"] == {"id": alice.method_id, "type": "totp"}
    [cookie] = set_cookies(response)
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=864000"):
        assert attribute in cookie


def test_codes_from_previous_and_next_step_are_accepted(alice, clock):
    clock.advance(60)
    assert alice.login(totp_code(alice.secret, clock.now() - 30)).status_code == 200
    clock.advance(60)
    assert alice.login(totp_code(alice.secret, clock.now() + 30)).status_code == 200
    clock.advance(90)
    too_old = alice.login(totp_code(alice.secret, clock.now() - 60))
    assert too_old.status_code == 401


def test_a_code_is_accepted_once(alice, clock):
    code = totp_code(alice.secret, clock.now())
    assert alice.login(code).status_code == 200
    replay = alice.login(code)
    assert replay.status_code == 401 and replay.json["error"] == "invalid_code"
    # An earlier step than the one used is refused too.
    assert alice.login(totp_code(alice.secret, clock.now() - 30)).status_code == 401


def test_the_confirmation_code_cannot_log_in(person, api, clock):
    person.sign_up()
    person.password_step()
    started = api.post("/v1/account/methods/totp", {}).json
    code = totp_code(started["secret"], clock.now())
    api.post(f"/v1/account/methods/{started['method_id']}/confirm", {"code": code})
    person.method_id = started["method_id"]
    assert person.login(code).status_code == 401


def test_attempt_dies_after_five_failures(alice, api):
    login_id = alice.start_login()
    for remaining in (4, 3, 2, 1, 0):
        bad = api.post(f"/v1/login/{login_id}/verify", {"method_id": alice.method_id, "code": "000000"})
        assert bad.status_code == 401 and bad.json["attempts_remaining"] == remaining
    dead = api.post(f"/v1/login/{login_id}/verify",
                    {"method_id": alice.method_id, "code": totp_code(alice.secret, alice.clock.now())})
    assert dead.status_code == 410 and dead.json["error"] == "login_expired"


def test_attempt_is_single_use(alice, api):
    login_id = alice.start_login()
    code = totp_code(alice.secret, alice.clock.now())
    assert api.post(f"/v1/login/{login_id}/verify", {"method_id": alice.method_id, "code": code}).status_code == 200
    alice.clock.advance(30)
    code = totp_code(alice.secret, alice.clock.now())
    used = api.post(f"/v1/login/{login_id}/verify", {"method_id": alice.method_id, "code": code})
    assert used.status_code == 410


def test_attempt_is_single_use_even_with_two_right_codes_at_once(alice, clock, race):
    """A double submit carrying two codes that are both right (the next step's and the
    current one's). Staged: the first, with the later step, has checked its code and is
    about to complete the login when the second completes it with the earlier step; the
    first's step is still new, so only the write using up the attempt refuses it."""
    from chalicelib import store

    login_id = alice.start_login()
    later, current = (totp_code(alice.secret, clock.now() + 30), totp_code(alice.secret, clock.now()))
    first, second = race(lambda: alice.verify(login_id, later), lambda: alice.verify(login_id, current),
                         pause_before=(store, "transact"))
    assert second.status_code == 200
    assert first.status_code == 410 and first.json["error"] == "login_expired"


def test_attempt_expires_after_five_minutes_even_before_ttl_deletion(alice, api, clock):
    login_id = alice.start_login()
    clock.advance(301)
    late = api.post(f"/v1/login/{login_id}/verify",
                    {"method_id": alice.method_id, "code": totp_code(alice.secret, clock.now())})
    assert late.status_code == 410


def test_an_expired_attempt_says_so_after_its_cookie_expired_with_it(alice, api, clock, make_client):
    """The login cookie's Max-Age is the attempt's: a browser past it no longer sends the token
    and must hear that the attempt expired, not that another browser started it."""
    login_id = alice.start_login()
    cookie = next(c for c in set_cookies(api.last) if c.startswith("__Host-mfa_login="))
    assert "Max-Age=300" in cookie
    live_elsewhere = make_client().post(f"/v1/login/{login_id}/verify", {"method_id": alice.method_id, "code": "1"})
    assert (live_elsewhere.status_code, live_elsewhere.json["error"]) == (403, "login_other_browser")
    clock.advance(301)
    api.cookies.clear()   # what the browser does at Max-Age
    code = totp_code(alice.secret, clock.now())
    late = api.post(f"/v1/login/{login_id}/verify", {"method_id": alice.method_id, "code": code})
    assert (late.status_code, late.json["error"]) == (410, "login_expired")
    status = api.get(f"/v1/login/{login_id}")
    assert (status.status_code, status.json["error"]) == (410, "login_expired")
    challenge = api.post(f"/v1/login/{login_id}/challenges", {"method_id": alice.method_id})
    assert (challenge.status_code, challenge.json["error"]) == (410, "login_expired")


def test_unknown_attempt_and_unknown_method(alice, api):
    unknown = api.post("/v1/login/" + "0" * 32 + "/verify", {"method_id": alice.method_id, "code": "123456"})
    assert unknown.status_code == 404 and unknown.json["error"] == "login_not_found"
    login_id = alice.start_login()
    other = api.post(f"/v1/login/{login_id}/verify", {"method_id": "f" * 32, "code": "123456"})
    assert other.status_code == 404 and other.json["error"] == "method_not_found"


def test_rehash_on_login_when_parameters_change(alice, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("ARGON2_TIME_COST", "3")
    get_settings.cache_clear()
    assert alice.password_step().status_code == 200
    item = account_item("alice@example.com")
    assert item["password_hash"]["S"].startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    assert alice.password_step().status_code == 200


def fail_once(person):
    return person.verify(person.start_login(), "000000")


def test_account_lockout_with_increasing_delays_and_email(alice, api, clock):
    for _ in range(10):
        assert fail_once(alice).status_code == 401
    locked = mailbox(api, "alice@example.com", "locked after failed attempts")
    assert len(locked) == 1 and "10 failed" in locked[0]["text"]
    refused = alice.login()
    assert refused.status_code == 429 and refused.json["error"] == "mfa_locked"
    assert refused.headers["Retry-After"] == "60"
    clock.advance(60)
    assert fail_once(alice).status_code == 401          # 11th failure: now 2 minutes
    clock.advance(61)
    assert alice.login().status_code == 429
    clock.advance(60)
    assert alice.login().status_code == 200             # success resets the count
    clock.advance(30)
    assert fail_once(alice).status_code == 401
    assert alice.login().status_code == 200


def test_hard_lock_after_100_consecutive_failures(alice, api, clock):
    import boto3

    account_id = api.get("/v1/account").json["id"]
    # 99 consecutive failures so far, the last lock long over.
    boto3.client("dynamodb").put_item(TableName="mfa-local", Item={
        "PK": {"S": f"ACCOUNT#{account_id}"}, "SK": {"S": "LOCKOUT"}, "failures": {"N": "99"},
        "last_failure_at": {"N": str(int(clock.now()))}, "locked_until": {"N": str(int(clock.now()) + 3600)}})
    clock.advance(3600)
    assert fail_once(alice).status_code == 401          # the 100th
    clock.advance(30 * 24 * 3600)
    refused = alice.login()
    assert refused.status_code == 403 and refused.json["error"] == "account_locked"
    assert len(mailbox(api, "alice@example.com", "Your account is locked")) == 1


def test_lockout_delays_are_capped():
    from chalicelib.services.lockout import delay_for

    assert [delay_for(n) for n in (9, 10, 11, 12, 15, 16, 50)] == [0, 60, 120, 240, 1920, 3600, 3600]


def test_two_simultaneous_verifications_of_the_same_code(alice, make_client, clock, race):
    """Two browsers, two login attempts, the same code at the same moment: exactly one wins.
    Staged: the first has checked the code and is about to record its use when the second
    verifies. The first's try is counted on the account before the hold, so the second's
    count follows it rather than racing it: only the write recording the TOTP step refuses
    the first."""
    from chalicelib import store

    second = alice.in_another_browser(make_client())
    login_ids = [alice.start_login(), second.start_login()]
    code = totp_code(alice.secret, clock.now())
    results = race(lambda: alice.verify(login_ids[0], code).status_code,
                   lambda: second.verify(login_ids[1], code).status_code,
                   pause_before=(store, "transact"))
    assert results == [401, 200]


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "12345a", "１２３４５６"])
def test_malformed_codes_are_wrong_codes(alice, code):
    response = alice.login(code)
    assert response.status_code == 401 and response.json["error"] == "invalid_code"


def test_a_burst_of_parallel_guesses_cannot_pass_the_lockout(alice, make_client, race):
    """9 failures so far; 6 browsers guess at once: one guess is checked (the 10th, which
    locks), every other one is refused without its code being looked at. Staged: the first
    has read the count of 9 and is about to take the 10th try when the other five guess."""
    from chalicelib import store

    for _ in range(9):
        assert fail_once(alice).status_code == 401
    browsers = [alice.in_another_browser(make_client()) for _ in range(6)]
    login_ids = [b.start_login() for b in browsers]
    guesses = [lambda b=b, login_id=login_id: b.verify(login_id, "000000").json["error"]
               for b, login_id in zip(browsers, login_ids)]
    answers = race(*guesses, pause_before=(store, "op_reserve_second_factor_try"))
    assert answers.count("invalid_code") == 1
    assert set(answers) - {"invalid_code"} <= {"try_again", "mfa_locked"}
    assert alice.login().json["error"] == "mfa_locked"


def test_password_guessing_is_rate_limited_per_email(alice, api, clock):
    # onboarding made one password step already
    for _ in range(19):
        assert api.post("/v1/login", {"email": alice.email, "password": "wrong but long enough"}).status_code == 401
    limited = alice.password_step()  # even the right password, once over the limit
    assert limited.status_code == 429 and limited.json["error"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) <= 600
    unknown = [api.post("/v1/login", {"email": "nobody@example.com", "password": "x" * 12}).status_code
               for _ in range(21)]
    assert unknown[-1] == 429  # the same for an email without an account
    clock.advance(600)
    assert alice.password_step().status_code == 200


def test_password_guessing_is_rate_limited_per_ip(person, api, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("LOGIN_LIMIT_PER_IP", "3")
    get_settings.cache_clear()
    for n in range(3):
        assert api.post("/v1/login", {"email": f"user{n}@example.com", "password": "x" * 12}).status_code == 401
    assert api.post("/v1/login", {"email": "other@example.com", "password": "x" * 12}).status_code == 429


def test_a_password_step_refused_by_one_limit_counts_on_none(person, api, monkeypatch):
    """The email's and the IP's counters are separate writes (side by side, not one
    transaction): a step refused by the IP's limit gives the email's hit back, so another
    person behind the same address does not bring that email nearer its own limit."""
    import boto3

    from chalicelib.config import get_settings

    monkeypatch.setenv("LOGIN_LIMIT_PER_IP", "2")
    get_settings.cache_clear()
    for n in range(2):
        assert api.post("/v1/login", {"email": f"user{n}@example.com", "password": "x" * 12}).status_code == 401
    for _ in range(3):
        assert api.post("/v1/login", {"email": "victim@example.com", "password": "x" * 12}).status_code == 429
    counters = boto3.client("dynamodb").scan(TableName="mfa-local", FilterExpression="begins_with(PK, :p)",
                                             ExpressionAttributeValues={":p": {"S": "LIMIT#login-email#victim"}})
    assert [int(item["hits"]["N"]) for item in counters["Items"]] in ([], [0])


def test_a_lock_is_reported_even_when_the_try_that_set_it_ends_otherwise(alice, api, clock, race):
    """The 10th try carries the right code, but its login attempt is gone by the time it is
    accepted (410): the lock its try set still takes effect and is emailed. Staged: the 10th
    try has counted itself and checked its code when the attempt is used up (as by the same
    verification sent twice). (Not by a second verification succeeding meanwhile: a success
    forgets the failures, and a try counted before it cannot land after it.)"""
    from chalicelib import store

    for _ in range(9):
        assert fail_once(alice).status_code == 401
    login_id = alice.start_login()
    first, _ = race(lambda: alice.verify(login_id),
                    lambda: store.transact([store.op_consume_login_attempt(login_id, int(clock.now()))]),
                    pause_before=(store, "transact"))
    assert first.status_code == 410
    assert len(mailbox(api, alice.email, "locked after failed attempts")) == 1
    assert alice.login().json["error"] == "mfa_locked"


def test_a_wrong_password_costs_the_same_storage_work_for_known_and_unknown_emails(alice, api):
    """Same writes either way (the two counters, each a conditional update, and one event of
    one size, a plain write), so the password step's time tells no one whether an email has an
    account."""
    import boto3

    from chalicelib import aws

    written = []
    client = aws.client("dynamodb")
    client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems",
                                lambda params, **kw: written.append([next(iter(i)) for i in params["TransactItems"]]))
    client.meta.events.register("before-parameter-build.dynamodb.PutItem",
                                lambda params, **kw: written.append(params["Item"]))
    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem",
                                lambda params, **kw: written.append([params["Key"]["PK"]["S"].split("#")[1]]))
    shapes = []
    for email in (alice.email, "nobody@example.com"):
        written.clear()
        assert api.post("/v1/login", {"email": email, "password": "wrong password, long enough"}).status_code == 401
        [event] = [w for w in written if isinstance(w, dict)]
        shapes.append([sorted(w for w in written if isinstance(w, list)), event])
    (known, known_event), (unknown, unknown_event) = shapes
    assert known == unknown == [["login-email"], ["login-ip"]]   # the counters; the event on its own
    assert len(json.dumps(known_event["PK"])) == len(json.dumps(unknown_event["PK"]))
    assert unknown_event["PK"]["S"].startswith("UNKNOWN#") and unknown_event["kind"]["S"] == "login_failed"
    stored = boto3.client("dynamodb").get_item(TableName="mfa-local", Key={"PK": unknown_event["PK"],
                                                                           "SK": unknown_event["SK"]})["Item"]
    assert stored["details"]["M"]["reason"]["S"] == "invalid_password"


def test_over_the_limit_no_password_is_hashed(alice, api, monkeypatch):
    """The tries are counted before the hash: a 429 costs no argon2 work."""
    from chalicelib import passwords
    from chalicelib.config import get_settings

    monkeypatch.setenv("LOGIN_LIMIT_PER_EMAIL", "3")   # alice's own login counted one
    get_settings.cache_clear()
    hashed = []
    verify = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda *args: hashed.append(1) or verify(*args))
    answers = [api.post("/v1/login", {"email": alice.email, "password": "wrong password, long enough"}).status_code
               for _ in range(3)]
    assert answers == [401, 401, 429] and len(hashed) == 2
