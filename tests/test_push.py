"""Push approval over HTTP: pairing with a confirmation phrase, signed device requests,
number matching (the number typed in the app), the first answer winning and the same answer
retried, expiry, anti-fatigue limits, "this wasn't me" and the pause it puts on push,
step-up, and what SNS was asked to send. The phone is the reference authenticator's own
signing code (clients/authenticator), with its key in memory."""
import json

import pytest

from tests.support.journeys import Person, mailbox
from tests.support.phone import Phone, pair_phone, signature_headers, start_push_login


@pytest.fixture
def paired(alice, make_client, clock):
    """Alice with TOTP and a paired phone; logged out."""
    alice.step_up()
    phone = Phone(make_client(origin=None), clock)
    alice.push_method = pair_phone(alice, phone)
    alice.phone = phone
    alice.api.post("/v1/logout")
    clock.advance(30)   # a TOTP step not used yet
    return alice


# ---------------------------------------------------------------- pairing

def test_pairing_with_the_phrase_activates_push(alice, make_client, clock):
    alice.step_up()
    started = alice.api.post("/v1/account/methods/push/pairings", {}).json
    assert started["pairing_uri"].startswith("mfa-push://pair?api=http%3A%2F%2Flocalhost%3A8000&code=")
    assert started["qr_svg"].startswith("<svg") and started["expires_at"] == int(clock.now()) + 600
    phone = Phone(make_client(origin=None), clock)
    assert phone.pair(started["pairing_code"].lower().replace("-", " ")).status_code == 201
    assert len(phone.phrase.split()) == 3
    # Paired but unconfirmed: the device cannot act yet, and the method is not usable.
    assert phone.challenges().status_code == 403
    assert [m["type"] for m in alice.api.get("/v1/account/methods").json["methods"]] == ["totp"]

    confirmed = alice.api.post(f"/v1/account/methods/push/pairings/{started['pairing_id']}/confirm",
                               {"phrase": "  " + phone.phrase.upper() + " "})
    assert confirmed.status_code == 200, confirmed.json
    method = confirmed.json["method"]
    assert method["type"] == "push" and method["device_name"] == "Pixel 9" and method["platform"] == "fcm"
    assert mailbox(alice.api, alice.email, "verification method was added")
    assert phone.challenges().json == {"challenges": []}


def test_push_can_be_the_first_method_of_a_new_account(person, make_client, clock):
    person.sign_up()
    assert person.password_step().json["enrollment_required"] is True
    phone = Phone(make_client(origin=None), clock)
    method = pair_phone(person, phone)
    assert person.api.get("/v1/account/methods").status_code == 200
    assert method["type"] == "push"


def test_a_wrong_phrase_is_refused_and_five_end_the_pairing(alice, make_client, clock):
    alice.step_up()
    started = alice.api.post("/v1/account/methods/push/pairings", {}).json
    phone = Phone(make_client(origin=None), clock)
    phone.pair(started["pairing_code"])
    confirm = f"/v1/account/methods/push/pairings/{started['pairing_id']}/confirm"
    for tries_left in (4, 3, 2, 1, 0):
        wrong = alice.api.post(confirm, {"phrase": "acid acorn acre"})
        assert wrong.status_code == 401 and wrong.json["error"] == "invalid_phrase"
        assert wrong.json["tries_left"] == tries_left
    ended = alice.api.post(confirm, {"phrase": phone.phrase})
    assert ended.status_code == 410 and ended.json["error"] == "pairing_expired"
    assert phone.challenges().status_code == 403


def test_confirming_before_any_app_paired_says_so(alice):
    alice.step_up()
    started = alice.api.post("/v1/account/methods/push/pairings", {}).json
    early = alice.api.post(f"/v1/account/methods/push/pairings/{started['pairing_id']}/confirm", {"phrase": "a b c"})
    assert early.status_code == 409 and early.json["error"] == "pairing_incomplete"


def test_a_pairing_code_works_once_and_expires(alice, make_client, clock):
    alice.step_up()
    code = alice.api.post("/v1/account/methods/push/pairings", {}).json["pairing_code"]
    assert Phone(make_client(origin=None), clock).pair(code).status_code == 201
    second = Phone(make_client(origin=None), clock, "attacker").pair(code)
    assert second.status_code == 404 and second.json["error"] == "pairing_not_found"

    late = alice.api.post("/v1/account/methods/push/pairings", {}).json["pairing_code"]
    clock.advance(601)
    assert Phone(make_client(origin=None), clock).pair(late).status_code == 404


@pytest.mark.parametrize("public_key", [
    {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
    {"kty": "RSA", "n": "AA", "e": "AQAB"},
    {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
    "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
])
def test_only_p256_public_keys_are_accepted(alice, make_client, clock, public_key):
    alice.step_up()
    code = alice.api.post("/v1/account/methods/push/pairings", {}).json["pairing_code"]
    refused = Phone(make_client(origin=None), clock).pair(code, public_key=public_key)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_public_key"
    # The code was not spent by the bad request.
    assert Phone(make_client(origin=None), clock).pair(code).status_code == 201


def test_an_spki_public_key_is_accepted(alice, make_client, clock):
    import base64

    from cryptography.hazmat.primitives import serialization

    alice.step_up()
    code = alice.api.post("/v1/account/methods/push/pairings", {}).json["pairing_code"]
    phone = Phone(make_client(origin=None), clock)
    spki = phone.key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert phone.pair(code, public_key=base64.b64encode(spki).decode()).status_code == 201


# ---------------------------------------------------------------- login with push

def test_log_in_by_approving_with_the_right_number(paired):
    login_id, pushed = start_push_login(paired)
    assert 10 <= pushed["number"] <= 99 and pushed["notified"] is True
    assert paired.api.get(f"/v1/login/{login_id}").json["status"] == "pending"

    waiting = paired.phone.challenges().json["challenges"]
    assert len(waiting) == 1
    challenge = waiting[0]
    assert challenge["challenge_id"] == pushed["challenge_id"] and challenge["purpose"] == "login"
    assert challenge["context"]["ip"] is not None and challenge["context"]["user_agent"] == "pytest-browser/1.0"
    # Nothing to pick from: the person types the number the browser shows.
    assert set(challenge) == {"challenge_id", "purpose", "created_at", "expires_at", "context"}

    early = paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
    assert early.status_code == 409 and early.json["error"] == "push_pending"

    answered = paired.phone.answer(pushed["challenge_id"], "approve", pushed["number"])
    assert answered.status_code == 200 and answered.json == {"status": "approved", "reason": None}
    assert paired.api.get(f"/v1/login/{login_id}").json["status"] == "approved"
    session = paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
    assert session.status_code == 200, session.json
    assert session.json["method_used"]["type"] == "push"
    assert paired.api.get("/v1/account").status_code == 200
    again = paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
    assert again.status_code == 404 or again.json["error"] in ("login_expired", "challenge_not_found")
    assert paired.phone.challenges().json["challenges"] == []


def wrong(number: int) -> int:
    """Another two-digit number."""
    return (number % 89) + 10


def test_deny_and_wrong_number_both_refuse_the_login(paired):
    for decision, number, reason in (("deny", None, "denied"), ("approve", "wrong", "wrong_number"),
                                     ("approve", None, "wrong_number")):
        login_id, pushed = start_push_login(paired)
        pick = wrong(pushed["number"]) if number == "wrong" else number
        answered = paired.phone.answer(pushed["challenge_id"], decision, pick)
        assert answered.json == {"status": "denied", "reason": reason}
        status = paired.api.get(f"/v1/login/{login_id}").json
        assert status["status"] == "denied" and status["reason"] == reason
        refused = paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
        assert refused.status_code == 401 and refused.json["error"] == "push_denied"
        assert paired.api.get("/v1/account").status_code == 401


def test_a_wrong_number_mails_the_owner_and_a_denial_does_not(paired):
    _, denied = start_push_login(paired)
    paired.phone.answer(denied["challenge_id"], "deny")
    assert not mailbox(paired.api, paired.email, "wrong number")
    _, pushed = start_push_login(paired)
    paired.phone.answer(pushed["challenge_id"], "approve", wrong(pushed["number"]))
    mail, = mailbox(paired.api, paired.email, "wrong number was typed")
    assert "Pixel 9" in mail["text"] and "pytest-browser" in mail["text"] and "change it now" in mail["text"]
    paired.login()
    events = paired.api.get("/v1/account/events?limit=50").json["events"]
    assert any(e["kind"] == "push_denied" and e["details"].get("reason") == "wrong_number" for e in events), events


def test_the_number_is_kept_for_the_check_and_no_candidates_are_stored(paired):
    from chalicelib import store

    _, pushed = start_push_login(paired)
    stored = store.get_challenge(paired.phone.device_id, pushed["challenge_id"])
    assert stored["number"] == pushed["number"] and "candidates" not in stored


def test_an_unanswered_push_expires_after_two_minutes(paired, clock):
    login_id, pushed = start_push_login(paired)
    clock.advance(121)
    assert paired.api.get(f"/v1/login/{login_id}").json["status"] == "expired"
    late = paired.phone.answer(pushed["challenge_id"], "approve", pushed["number"])
    assert late.status_code == 410
    assert paired.phone.challenges().json["challenges"] == []
    refused = paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
    assert refused.status_code == 410


def test_the_first_answer_wins(paired, race):
    """Staged: the right number's approval has read the push as pending and is about to
    record itself when three other answers come; the first of those to write wins."""
    from chalicelib import store

    login_id, pushed = start_push_login(paired)
    challenge_id, number = pushed["challenge_id"], pushed["number"]
    results = race(lambda: paired.phone.answer(challenge_id, "approve", number),
                   lambda: paired.phone.answer(challenge_id, "deny"),
                   lambda: paired.phone.answer(challenge_id, "approve", wrong(number)),
                   lambda: paired.phone.answer(challenge_id, "fraud"),
                   pause_before=(store, "transact"))
    assert [r.status_code for r in results] == [409, 200, 409, 409], [r.json for r in results]
    assert all(r.json["error"] == "already_decided" for r in results if r.status_code == 409)
    status = paired.api.get(f"/v1/login/{login_id}").json
    assert status["status"] == "denied" and status["reason"] == "denied"
    refused = paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": challenge_id})
    assert refused.status_code == 401 and refused.json["error"] == "push_denied"


def test_an_approval_sent_twice_at_once_is_answered_the_same(paired, race):
    """Staged: an approval retried while the first one is about to write (its reply was
    slow): both say approved, and the push is approved once."""
    from chalicelib import store

    login_id, pushed = start_push_login(paired)
    approve = lambda: paired.phone.answer(pushed["challenge_id"], "approve", pushed["number"])  # noqa: E731
    results = race(approve, approve, pause_before=(store, "transact"))
    assert [(r.status_code, r.json) for r in results] == [(200, {"status": "approved", "reason": None})] * 2
    assert paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]}).status_code == 200


def test_an_answer_retried_is_answered_the_same_and_another_is_409(paired):
    login_id, pushed = start_push_login(paired)
    challenge_id, number = pushed["challenge_id"], pushed["number"]
    approved = {"status": "approved", "reason": None}
    assert paired.phone.answer(challenge_id, "approve", number).json == approved
    retried = paired.phone.answer(challenge_id, "approve", number)   # signed again: a new nonce
    assert retried.status_code == 200 and retried.json == approved
    for other in (("deny", None), ("approve", wrong(number)), ("fraud", None)):
        late = paired.phone.answer(challenge_id, *other)
        assert late.status_code == 409 and late.json["error"] == "already_decided"
    assert paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": challenge_id}).status_code == 200
    # Used by the login now: the approval retried still says what it said.
    assert paired.phone.answer(challenge_id, "approve", number).json == approved
    assert [e["kind"] for e in paired.api.get("/v1/account/events?limit=50").json["events"]].count("push_approved") == 1

    _, pushed = start_push_login(paired)
    typed = wrong(pushed["number"])
    for _ in range(2):
        again = paired.phone.answer(pushed["challenge_id"], "approve", typed)
        assert again.status_code == 200 and again.json == {"status": "denied", "reason": "wrong_number"}
    assert len(mailbox(paired.api, paired.email, "wrong number")) == 1   # one denial, one notice
    right = paired.phone.answer(pushed["challenge_id"], "approve", pushed["number"])
    assert right.status_code == 409 and right.json["error"] == "already_decided"


def test_a_new_push_replaces_the_earlier_one_of_the_same_login(paired):
    login_id, first = start_push_login(paired)
    second = paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]}).json
    stale = paired.phone.answer(first["challenge_id"], "approve", first["number"])
    assert stale.status_code == 410
    assert paired.phone.answer(second["challenge_id"], "approve", second["number"]).status_code == 200
    assert paired.api.post(f"/v1/login/{login_id}/verify",
                           {"challenge_id": second["challenge_id"]}).status_code == 200


def test_a_push_for_one_login_cannot_complete_another(paired):
    login_a, pushed = start_push_login(paired)
    login_b = paired.start_login()
    paired.phone.answer(pushed["challenge_id"], "approve", pushed["number"])
    other = paired.api.post(f"/v1/login/{login_b}/verify", {"challenge_id": pushed["challenge_id"]})
    assert other.status_code == 404 and other.json["error"] == "challenge_not_found"


# ---------------------------------------------------------------- signed requests

def test_replayed_stale_and_forged_signatures_are_refused(paired, clock):
    _, pushed = start_push_login(paired)
    phone = paired.phone
    path = f"/v1/devices/{phone.device_id}/challenges/{pushed['challenge_id']}"
    body = {"decision": "approve", "number": pushed["number"], "report_fraud": False}
    data = json.dumps(body).encode()

    stale = phone.signed("POST", path, body, now=clock.now() - 301)
    assert stale.status_code == 401 and stale.json["error"] == "invalid_signature"
    stranger = Phone(phone.api, clock)
    forged = phone.api.request("POST", path, raw=data, browser=False,
                               headers=signature_headers(stranger.key, "POST", path, data, now=clock.now()))
    assert forged.status_code == 401
    tampered_headers = signature_headers(phone.key, "POST", path, data, now=clock.now())
    tampered = phone.api.request("POST", path, raw=json.dumps({**body, "report_fraud": True}).encode(),
                                 headers=tampered_headers, browser=False)
    assert tampered.status_code == 401
    unsigned = phone.api.request("POST", path, raw=data, browser=False)
    assert unsigned.status_code == 401
    assert phone.challenges().json["challenges"][0]["challenge_id"] == pushed["challenge_id"]   # nothing changed

    headers = signature_headers(phone.key, "POST", path, data, now=clock.now())
    assert phone.api.request("POST", path, raw=data, headers=headers, browser=False).status_code == 200
    replayed = phone.api.request("POST", path, raw=data, headers=headers, browser=False)
    assert replayed.status_code == 401 and "already received" in replayed.json["message"]


def test_another_devices_challenge_is_not_found(paired, make_client, clock):
    other_person = Person(make_client(), clock, "bob@example.com").onboard()
    other_person.step_up()
    bobs_phone = Phone(make_client(origin=None), clock, "Bob's phone")
    pair_phone(other_person, bobs_phone)
    _, pushed = start_push_login(paired)
    assert bobs_phone.answer(pushed["challenge_id"], "approve", pushed["number"]).status_code == 404


# ---------------------------------------------------------------- anti-fatigue

def test_at_most_three_pending_pushes_and_ten_an_hour(paired, clock):
    pushes = [start_push_login(paired)[1] for _ in range(3)]
    login_id = paired.start_login()
    fourth = paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]})
    assert fourth.status_code == 429 and fourth.json["error"] == "push_rate_limited"
    assert "already waiting" in fourth.json["message"]
    paired.phone.answer(pushes[0]["challenge_id"], "deny")
    assert paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]}).status_code == 201

    clock.advance(121)   # the pending ones expired; 4 were sent this hour
    for _ in range(6):
        clock.advance(1)
        _, pushed = start_push_login(paired)
        paired.phone.answer(pushed["challenge_id"], "deny")
    eleventh = paired.api.post(f"/v1/login/{paired.password_step().json['login_id']}/push",
                               {"method_id": paired.push_method["id"]})
    assert eleventh.status_code == 429 and "this hour" in eleventh.json["message"]
    # A sliding hour: a new clock hour does not reset it, only the oldest request leaving it does.
    clock.advance(3600 - clock.now() % 3600 + 1)
    login_id = paired.start_login()
    still = paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]})
    assert still.status_code == 429 and still.json["retry_after"] > 0, still.json
    clock.advance(still.json["retry_after"])
    assert paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]}).status_code == 201


def test_this_wasnt_me_ends_the_login_emails_the_owner_and_is_audited(paired):
    login_id, pushed = start_push_login(paired)
    reported = paired.phone.answer(pushed["challenge_id"], "deny", report_fraud=True)
    assert reported.json == {"status": "denied", "reason": "fraud_report"}
    status = paired.api.get(f"/v1/login/{login_id}").json
    assert status["status"] == "expired" and status["reason"] == "fraud_report"
    assert paired.api.post(f"/v1/login/{login_id}/verify", {"method_id": paired.method_id,
                                                             "code": "000000"}).status_code == 410
    mail = mailbox(paired.api, paired.email, "you reported it")
    assert mail and "Pixel 9" in mail[0]["text"] and "change it now" in mail[0]["text"]
    assert "paused for 60 minutes" in mail[0]["text"]
    paired.login()
    events = [e["kind"] for e in paired.api.get("/v1/account/events?limit=50").json["events"]]
    assert "push_fraud_reported" in events and "push_denied" in events


def test_a_fraud_report_pauses_push_for_the_configured_time(paired, make_client, clock, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("PUSH_FRAUD_BLOCK_SECONDS", "900")
    get_settings.cache_clear()
    login_id, pushed = start_push_login(paired)
    elsewhere = paired.in_another_browser(make_client())
    elsewhere.push_method = paired.push_method
    _, other = start_push_login(elsewhere)   # another push, still waiting when the report comes
    assert paired.phone.answer(pushed["challenge_id"], "fraud").json == {"status": "denied", "reason": "fraud_report"}
    # The attempt is over for every method, not only push.
    code = paired.verify(login_id)
    assert code.status_code == 410 and code.json["error"] == "login_expired"
    assert "paused for 15 minutes" in mailbox(paired.api, paired.email, "you reported it")[0]["text"]

    # The push still waiting cannot be approved any more.
    late = paired.phone.answer(other["challenge_id"], "approve", other["number"])
    assert late.status_code == 200 and late.json == {"status": "denied", "reason": "push_blocked"}

    clock.advance(300)
    started = paired.password_step().json
    assert {m["type"] for m in started["methods"]} == {"totp", "push"}   # other methods are still offered
    for path, body in ((f"/v1/login/{started['login_id']}/push", {"method_id": paired.push_method["id"]}),
                       (f"/v1/login/{started['login_id']}/challenges", {"method_id": paired.push_method["id"]})):
        blocked = paired.api.post(path, body)
        assert blocked.status_code == 403 and blocked.json["error"] == "push_blocked", blocked.json
        assert blocked.json["retry_after"] == 600 and blocked.headers["Retry-After"] == "600"
    assert paired.verify(started["login_id"]).status_code == 200   # the authenticator app still logs in
    clock.advance(601)
    stepped_up = paired.api.post("/v1/account/step-up/push", {"method_id": paired.push_method["id"]})
    assert stepped_up.status_code == 201, stepped_up.json   # the pause is over
    paired.phone.answer(stepped_up.json["challenge_id"], "approve", stepped_up.json["number"])
    assert paired.api.post("/v1/account/step-up", {"challenge_id": stepped_up.json["challenge_id"]}).status_code == 200


# ---------------------------------------------------------------- step-up, pushes sent, token, unpair

def test_step_up_with_push(paired, clock):
    paired.login()
    clock.advance(601)
    pushed = paired.api.post("/v1/account/step-up/push", {"method_id": paired.push_method["id"]})
    assert pushed.status_code == 201, pushed.json
    challenge_id = pushed.json["challenge_id"]
    assert paired.phone.challenges().json["challenges"][0]["purpose"] == "step_up"
    assert paired.api.get(f"/v1/account/step-up/push/{challenge_id}").json["status"] == "pending"
    paired.phone.answer(challenge_id, "approve", pushed.json["number"])
    stepped = paired.api.post("/v1/account/step-up", {"challenge_id": challenge_id})
    assert stepped.status_code == 200 and stepped.json["method_used"]["type"] == "push"


def test_fraud_report_at_step_up_ends_the_session(paired, clock):
    paired.login()
    pushed = paired.api.post("/v1/account/step-up/push", {"method_id": paired.push_method["id"]}).json
    paired.phone.answer(pushed["challenge_id"], "deny", report_fraud=True)
    assert paired.api.get("/v1/account").status_code == 401


def test_pushes_carry_only_the_challenge_id(paired):
    _, pushed = start_push_login(paired)
    sent = paired.api.get("/_dev/pushes").json["pushes"]
    assert sent[0]["challenge_id"] == pushed["challenge_id"] and sent[0]["device_id"] == paired.phone.device_id
    # A generic sentence and the challenge id: not the number, nor anything else to act on.
    assert "login" in sent[0]["text"] and not any(c.isdigit() for c in sent[0]["text"])


def test_update_push_token_and_unpair(paired, make_client, clock):
    phone = paired.phone
    updated = phone.signed("PUT", f"/v1/devices/{phone.device_id}/push-token", {"push_token": "new-token"})
    assert updated.status_code == 200
    # The phone is not the last method (TOTP remains): unpairing removes the push method.
    assert phone.signed("DELETE", f"/v1/devices/{phone.device_id}").status_code == 200
    assert phone.challenges().status_code == 401
    paired.login()
    assert [m["type"] for m in paired.api.get("/v1/account/methods").json["methods"]] == ["totp"]
    assert mailbox(paired.api, paired.email, "verification method was removed")


def test_the_last_method_cannot_be_unpaired_from_the_phone(person, make_client, clock):
    person.sign_up()
    person.password_step()
    phone = Phone(make_client(origin=None), clock)
    pair_phone(person, phone)
    refused = phone.signed("DELETE", f"/v1/devices/{phone.device_id}")
    assert refused.status_code == 409 and refused.json["error"] == "last_method"


def test_removing_the_push_method_in_the_browser_unpairs_the_device(paired):
    paired.login()
    paired.step_up()
    assert paired.api.delete(f"/v1/account/methods/{paired.push_method['id']}", {"confirm": True}).status_code == 200
    assert paired.phone.challenges().status_code == 401


# ---------------------------------------------------------------- edges found in review

def test_a_fraud_report_on_a_replaced_push_still_ends_the_login_and_alerts(paired):
    login_id, first = start_push_login(paired)
    paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]})
    reported = paired.phone.answer(first["challenge_id"], "deny", report_fraud=True)
    assert reported.status_code == 200 and reported.json["reason"] == "fraud_report"
    assert paired.api.get(f"/v1/login/{login_id}").json["status"] == "expired"
    assert mailbox(paired.api, paired.email, "you reported it")


def test_a_phone_pairs_again_with_the_same_push_token(alice, make_client, clock):
    alice.step_up()
    abandoned = alice.api.post("/v1/account/methods/push/pairings", {}).json
    assert Phone(make_client(origin=None), clock).pair(abandoned["pairing_code"]).status_code == 201
    clock.advance(601)   # never confirmed
    alice.step_up()
    again = alice.api.post("/v1/account/methods/push/pairings", {}).json
    phone = Phone(make_client(origin=None), clock)
    assert phone.pair(again["pairing_code"]).status_code == 201   # same "token-Pixel 9"
    confirmed = alice.api.post(f"/v1/account/methods/push/pairings/{again['pairing_id']}/confirm",
                               {"phrase": phone.phrase})
    assert confirmed.status_code == 200, confirmed.json


@pytest.mark.parametrize("headers", [
    {"X-Device-Timestamp": "9" * 5000}, {"X-Device-Nonce": "short"}, {"X-Device-Signature": "A" * 5000},
])
def test_malformed_signature_headers_are_401(paired, headers):
    refused = paired.phone.signed("GET", f"/v1/devices/{paired.phone.device_id}/challenges", headers=headers)
    assert refused.status_code == 401 and refused.json["error"] == "invalid_signature"


def test_an_spki_key_of_another_algorithm_is_a_400(alice, make_client, clock):
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    alice.step_up()
    code = alice.api.post("/v1/account/methods/push/pairings", {}).json["pairing_code"]
    spki = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    refused = Phone(make_client(origin=None), clock).pair(code, public_key=base64.b64encode(spki).decode())
    assert refused.status_code == 400 and refused.json["error"] == "invalid_public_key"
    mangled = base64.b64encode(spki[:9] + b"\x2a" + spki[10:]).decode()   # an unknown algorithm id
    assert Phone(make_client(origin=None), clock).pair(code, public_key=mangled).status_code == 400


def test_a_used_push_approval_cannot_step_up_again(paired, clock):
    paired.login()
    clock.advance(601)
    pushed = paired.api.post("/v1/account/step-up/push", {"method_id": paired.push_method["id"]}).json
    paired.phone.answer(pushed["challenge_id"], "approve", pushed["number"])
    assert paired.api.post("/v1/account/step-up", {"challenge_id": pushed["challenge_id"]}).status_code == 200
    again = paired.api.post("/v1/account/step-up", {"challenge_id": pushed["challenge_id"]})
    assert again.status_code == 401 and again.json["error"] == "push_not_approved"


def test_only_the_browser_that_started_the_login_can_follow_and_complete_it(paired, make_client):
    login_id, pushed = start_push_login(paired)
    paired.phone.answer(pushed["challenge_id"], "approve", pushed["number"])
    elsewhere = make_client()   # knows the login id (a log, a shoulder) but not the browser's cookie
    status = elsewhere.get(f"/v1/login/{login_id}")
    assert status.status_code == 403 and status.json["error"] == "login_other_browser"
    stolen = elsewhere.post(f"/v1/login/{login_id}/verify", {"challenge_id": pushed["challenge_id"]})
    assert stolen.status_code == 403 and "__Host-mfa_session" not in elsewhere.cookies
    assert elsewhere.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]}).status_code == 403
    assert elsewhere.post(f"/v1/login/{login_id}/webauthn/options").status_code == 403
    assert paired.api.post(f"/v1/login/{login_id}/verify",
                           {"challenge_id": pushed["challenge_id"]}).status_code == 200   # the starting browser


def test_two_push_requests_at_once_cannot_both_take_the_last_pending_slot(paired, make_client, race):
    """Two pending already, two requests at once: one gets the third slot, the other is told
    to try again. Staged: the first has read the two pending ones and is about to add its
    own when the second adds its own; only the write replacing the version read refuses the
    first."""
    from chalicelib import store

    for _ in range(2):
        start_push_login(paired)
    other = paired.in_another_browser(make_client())
    login_ids = [paired.start_login(), other.start_login()]
    first, second = race(*[lambda b=b, login_id=login_id: b.api.post(f"/v1/login/{login_id}/push",
                                                                      {"method_id": paired.push_method["id"]})
                           for b, login_id in zip((paired, other), login_ids, strict=True)],
                         pause_before=(store, "transact"))
    assert second.status_code == 201, second.json
    assert first.status_code == 429 and first.json["error"] == "try_again"
    fourth = paired.api.post(f"/v1/login/{paired.start_login()}/push", {"method_id": paired.push_method["id"]})
    assert fourth.status_code == 429 and fourth.json["error"] == "push_rate_limited"
