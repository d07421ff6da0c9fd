"""Security keys and built-in authenticators over HTTP, with responses built by `fido2`
(tests/support/soft_authenticator.py): the happy paths, and every way a response can be wrong,
each refused with a 4xx and nothing changed."""
import pytest
from fido2.utils import websafe_decode

from chalicelib import store
from tests.support.journeys import Person, mailbox
from tests.support.soft_authenticator import SoftAuthenticator
from tests.support.table import items_of, stored_method


def register(person: Person, authenticator: SoftAuthenticator, method_type: str, label: str | None = None,
             **create_kw):
    options = person.api.post("/v1/account/methods/webauthn/options", {"type": method_type, "label": label})
    assert options.status_code == 200, options.json
    credential = authenticator.create(options.json["public_key"], **create_kw)
    return options, person.api.post("/v1/account/methods/webauthn", {"credential": credential})


def login_options(person: Person) -> tuple[str, dict]:
    started = person.password_step()
    assert started.status_code == 200, started.json
    login_id = started.json["login_id"]
    options = person.api.post(f"/v1/login/{login_id}/webauthn/options")
    assert options.status_code == 200, options.json
    return login_id, options.json["public_key"]


def webauthn_login(person: Person, authenticator: SoftAuthenticator, **get_kw):
    login_id, options = login_options(person)
    return person.api.post(f"/v1/login/{login_id}/verify", {"credential": authenticator.get(options, **get_kw)})


def methods_of(person: Person) -> list[dict]:
    listed = person.api.get("/v1/account/methods")
    assert listed.status_code == 200, listed.json
    return listed.json["methods"]


@pytest.fixture
def key_holder(alice):
    """Alice with TOTP and, after step-up, a registered security key."""
    assert alice.step_up().status_code == 200
    key = SoftAuthenticator("cross-platform")
    _, registered = register(alice, key, "security_key", "YubiKey")
    assert registered.status_code == 201, registered.json
    alice.key, alice.key_method = key, registered.json["method"]
    return alice


# ---------------------------------------------------------------- registration

def test_security_key_registration_options_ask_for_a_roaming_authenticator(alice):
    assert alice.step_up().status_code == 200
    options = alice.api.post("/v1/account/methods/webauthn/options", {"type": "security_key"}).json
    public_key = options["public_key"]
    assert public_key["rp"] == {"id": "localhost", "name": "MFA Service (local)"}
    assert public_key["authenticatorSelection"]["authenticatorAttachment"] == "cross-platform"
    assert public_key["attestation"] == "none"
    assert len(websafe_decode(public_key["challenge"])) >= 32
    assert public_key["user"]["name"] == alice.email
    assert alice.email.encode() not in websafe_decode(public_key["user"]["id"])
    assert options["expires_at"] - alice.clock.now() <= 300
    assert options["label"] == "Security key"


def test_register_security_key_then_log_in_with_it(key_holder, clock):
    method = key_holder.key_method
    assert method["type"] == "security_key" and method["label"] == "YubiKey"
    assert method["transports"] == ["usb"] and method["suspicious"] is False
    assert "public_key" not in method and "challenge" not in method
    assert {m["type"] for m in methods_of(key_holder)} == {"totp", "security_key"}
    assert mailbox(key_holder.api, key_holder.email, "verification method was added")

    key_holder.api.post("/v1/logout")
    started = key_holder.password_step().json
    assert {"id": method["id"], "type": "security_key", "label": "YubiKey"} in started["methods"]
    logged_in = webauthn_login(key_holder, key_holder.key)
    assert logged_in.status_code == 200, logged_in.json
    assert logged_in.json["method_used"] == {"id": method["id"], "type": "security_key", "user_verified": False}
    assert key_holder.api.get("/v1/account").status_code == 200
    record = stored_method(key_holder.email, method["id"], clock.now())
    assert record["sign_count"] == 1 and record["last_used_at"] == int(clock.now())
    assert "challenge" not in record


def test_built_in_authenticator_as_the_first_method_upgrades_the_enrolment_session(person, clock):
    person.sign_up()
    assert person.password_step().json["enrollment_required"] is True
    platform = SoftAuthenticator("platform", user_verification=True)
    options, registered = register(person, platform, "built_in", "MacBook Touch ID")
    selection = options.json["public_key"]["authenticatorSelection"]
    assert selection["authenticatorAttachment"] == "platform" and selection["userVerification"] == "required"
    assert registered.status_code == 201, registered.json
    assert registered.json["session"]["enrollment_required"] is False
    assert registered.json["method"]["transports"] == ["internal"]
    assert person.api.get("/v1/account/methods").status_code == 200

    person.api.post("/v1/logout")
    logged_in = webauthn_login(person, platform)
    assert logged_in.status_code == 200, logged_in.json
    assert logged_in.json["method_used"]["user_verified"] is True


def test_adding_a_second_method_needs_step_up(alice):
    alice.clock.advance(601)
    refused = alice.api.post("/v1/account/methods/webauthn/options", {"type": "security_key"})
    assert refused.status_code == 403 and refused.json["error"] == "step_up_required"


def test_registered_credentials_are_excluded_from_new_registrations(key_holder):
    options = key_holder.api.post("/v1/account/methods/webauthn/options", {"type": "security_key"}).json
    excluded = options["public_key"]["excludeCredentials"]
    assert len(excluded) == 1
    assert websafe_decode(excluded[0]["id"]) in key_holder.key.credentials
    assert excluded[0]["transports"] == ["usb"]
    with pytest.raises(PermissionError):
        key_holder.key.create(options["public_key"])


def test_step_up_with_a_security_key(key_holder):
    key_holder.clock.advance(601)
    options = key_holder.api.post("/v1/account/step-up/webauthn/options")
    assert options.status_code == 200, options.json
    stepped = key_holder.api.post("/v1/account/step-up", {"credential": key_holder.key.get(options.json["public_key"])})
    assert stepped.status_code == 200, stepped.json
    assert stepped.json["method_used"]["type"] == "security_key"
    renamed = key_holder.api.patch(f"/v1/account/methods/{key_holder.key_method['id']}", {"label": "Blue key"})
    assert renamed.status_code == 200 and renamed.json["label"] == "Blue key"


def test_synced_passkeys_reporting_a_zero_count_keep_working(alice):
    alice.step_up()
    passkey = SoftAuthenticator("platform", user_verification=True, counting=False, backup_eligible=True)
    _, registered = register(alice, passkey, "built_in")
    assert registered.json["method"]["backup_eligible"] is True
    for _ in range(3):
        alice.api.post("/v1/logout")
        assert webauthn_login(alice, passkey).status_code == 200


# ---------------------------------------------------------------- refused registrations

@pytest.mark.parametrize("case, method_type, kwargs, status, error", [
    ("wrong origin", "security_key", {"origin": "https://evil.example"}, 401, "webauthn_failed"),
    ("wrong RP ID", "security_key", {"rp_id": "evil.example"}, 401, "webauthn_failed"),
    ("no user verification for built-in", "built_in", {"uv": False}, 401, "webauthn_failed"),
    ("another challenge", "security_key", {"challenge": bytes(48)}, 404, "method_not_found"),
])
def test_bad_registration_responses_are_refused_and_change_nothing(alice, clock, case, method_type, kwargs,
                                                                    status, error):
    alice.step_up()
    before = methods_of(alice)
    authenticator = SoftAuthenticator("platform" if method_type == "built_in" else "cross-platform",
                                      user_verification=True)
    options, refused = register(alice, authenticator, method_type, **kwargs)
    assert refused.status_code == status, (case, refused.json)
    assert refused.json["error"] == error
    assert methods_of(alice) == before
    if status == 401:   # the enrolment is still pending: the right response completes it
        pending = stored_method(alice.email, options.json["method_id"], clock.now())
        assert pending["status"] == "pending"


def test_a_platform_authenticator_is_not_registered_as_a_security_key(alice):
    alice.step_up()
    _, refused = register(alice, SoftAuthenticator("platform", user_verification=True), "security_key")
    assert refused.status_code == 400 and refused.json["error"] == "wrong_authenticator"
    assert "built-in authenticator" in refused.json["message"]
    assert [m["type"] for m in methods_of(alice)] == ["totp"]


def test_registration_challenge_is_single_use_and_expires(alice, clock):
    alice.step_up()
    key = SoftAuthenticator()
    options = alice.api.post("/v1/account/methods/webauthn/options", {"type": "security_key"}).json
    credential = key.create(options["public_key"])
    assert alice.api.post("/v1/account/methods/webauthn", {"credential": credential}).status_code == 201
    again = alice.api.post("/v1/account/methods/webauthn", {"credential": credential})
    assert again.status_code == 409 and again.json["error"] == "already_confirmed"

    late = alice.api.post("/v1/account/methods/webauthn/options", {"type": "security_key"}).json
    clock.advance(301)
    alice.step_up()
    stale = alice.api.post("/v1/account/methods/webauthn",
                           {"credential": SoftAuthenticator().create(late["public_key"])})
    assert stale.status_code == 404 and stale.json["error"] == "method_not_found"
    assert len(methods_of(alice)) == 2


def test_a_credential_registered_on_one_account_cannot_be_registered_on_another(key_holder, make_client, clock):
    other = Person(make_client(), clock, "bob@example.com").onboard()
    other.step_up()
    options = other.api.post("/v1/account/methods/webauthn/options", {"type": "security_key"}).json
    # A cloned key (same credential id) answering bob's options.
    credential_id = next(iter(key_holder.key.credentials))
    fresh = key_holder.key.create(options["public_key"])
    forged = dict(fresh)
    new_id = websafe_decode(fresh["rawId"])
    key_holder.key.credentials[credential_id] = key_holder.key.credentials[new_id]
    from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData
    from fido2.utils import websafe_encode

    attestation = AttestationObject(websafe_decode(fresh["response"]["attestationObject"]))
    data = attestation.auth_data
    auth_data = AuthenticatorData.create(data.rp_id_hash, data.flags, data.counter, AttestedCredentialData.create(
        data.credential_data.aaguid, credential_id, data.credential_data.public_key))
    forged["id"] = forged["rawId"] = websafe_encode(credential_id)
    forged["response"] = {**fresh["response"], "attestationObject": websafe_encode(
        AttestationObject.create("none", auth_data, {}))}
    refused = other.api.post("/v1/account/methods/webauthn", {"credential": forged})
    assert refused.status_code == 409 and refused.json["error"] == "credential_already_registered"
    assert [m["type"] for m in methods_of(other)] == ["totp"]


@pytest.mark.parametrize("credential", [
    {}, {"id": "x", "rawId": "x", "type": "public-key"},
    {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "not base64!",
                                                                    "attestationObject": "AA"}},
    {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "attestationObject": 5}},
])
def test_malformed_registration_responses_get_a_4xx(alice, credential):
    alice.step_up()
    refused = alice.api.post("/v1/account/methods/webauthn", {"credential": credential})
    assert 400 <= refused.status_code < 500, refused.json


# ---------------------------------------------------------------- refused assertions

def test_wrong_origin_or_rp_id_assertions_are_refused_and_change_nothing(key_holder, clock):
    key_holder.api.post("/v1/logout")
    for kwargs in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        refused = webauthn_login(key_holder, key_holder.key, **kwargs)
        assert refused.status_code == 401 and refused.json["error"] == "webauthn_failed", kwargs
        assert refused.json["attempts_remaining"] == 4
        assert "set_cookie" not in refused.headers or "__Host-mfa_session=" not in str(refused.headers)
    assert key_holder.api.get("/v1/account").status_code == 401
    assert stored_method(key_holder.email, key_holder.key_method["id"], clock.now())["sign_count"] == 0


def test_a_login_challenge_answers_one_verification_only(key_holder):
    key_holder.api.post("/v1/logout")
    login_id, options = login_options(key_holder)
    bad = key_holder.api.post(f"/v1/login/{login_id}/verify",
                              {"credential": key_holder.key.get(options, origin="https://evil.example")})
    assert bad.status_code == 401
    # The same challenge, now answered correctly: it was spent by the refused try.
    reused = key_holder.api.post(f"/v1/login/{login_id}/verify", {"credential": key_holder.key.get(options)})
    assert reused.status_code == 401 and reused.json["error"] == "challenge_expired"
    fresh = key_holder.api.post(f"/v1/login/{login_id}/webauthn/options").json["public_key"]
    assert key_holder.api.post(f"/v1/login/{login_id}/verify",
                               {"credential": key_holder.key.get(fresh)}).status_code == 200


def test_a_key_added_after_the_password_step_still_logs_in(alice, make_client):
    """The login token lists the methods that the password step saw; a key registered since
    (in the browser already logged in) is read on its own, and its login completes."""
    other = alice.in_another_browser(make_client())
    login_id = other.start_login()
    assert other.api.cookies["__Host-mfa_login"].partition("!")[0].count(".") == 1   # the account; no key yet
    assert alice.step_up().status_code == 200
    key = SoftAuthenticator("cross-platform")
    assert register(alice, key, "security_key", "YubiKey")[1].status_code == 201
    options = other.api.post(f"/v1/login/{login_id}/webauthn/options").json["public_key"]
    assert other.api.post(f"/v1/login/{login_id}/verify", {"credential": key.get(options)}).status_code == 200


def test_a_try_takes_only_the_challenge_it_read(key_holder):
    """The write that counts a login try removes the challenge only while it is still the one
    the try read (with the lockout, before anything is written): read, then replaced by new
    options, the old challenge takes nothing and counts nothing; the current one does."""
    from chalicelib.clock import now_s
    from chalicelib.methods.webauthn import CHALLENGE_STATE
    from chalicelib.services import login_attempts

    key_holder.api.post("/v1/logout")
    login_id, _ = login_options(key_holder)
    read = store.get_login_attempt(login_id)
    key_holder.api.post(f"/v1/login/{login_id}/webauthn/options")   # replaces the challenge
    browser = login_attempts.browser_hash(key_holder.api.cookies["__Host-mfa_login"])

    def count(challenge):
        store.transact([store.op_count_login_try(login_id, "a" * 32, read["account_id"], now_s(), 5, browser,
                                                 ("challenge", challenge), takes=CHALLENGE_STATE)])

    with pytest.raises(store.ConditionFailed):
        count(read["challenge"])
    assert store.get_login_attempt(login_id)["tries"] == 0
    count(store.get_login_attempt(login_id)["challenge"])
    assert "challenge" not in store.get_login_attempt(login_id)


def test_an_assertion_for_an_older_challenge_is_refused(key_holder):
    key_holder.api.post("/v1/logout")
    login_id, first = login_options(key_holder)
    key_holder.api.post(f"/v1/login/{login_id}/webauthn/options")   # replaces the challenge
    refused = key_holder.api.post(f"/v1/login/{login_id}/verify", {"credential": key_holder.key.get(first)})
    assert refused.status_code == 401 and refused.json["error"] == "webauthn_failed"


def test_a_stale_step_up_challenge_is_refused(key_holder, clock):
    options = key_holder.api.post("/v1/account/step-up/webauthn/options").json
    clock.advance(301)
    refused = key_holder.api.post("/v1/account/step-up", {"credential": key_holder.key.get(options["public_key"])})
    assert refused.status_code == 401 and refused.json["error"] == "challenge_expired"


def test_a_finished_login_cannot_be_replayed(key_holder):
    key_holder.api.post("/v1/logout")
    login_id, options = login_options(key_holder)
    assertion = key_holder.key.get(options)
    assert key_holder.api.post(f"/v1/login/{login_id}/verify", {"credential": assertion}).status_code == 200
    replay = key_holder.api.post(f"/v1/login/{login_id}/verify", {"credential": assertion})
    assert replay.status_code == 410


def test_signature_counter_regression_flags_the_credential_and_emails_the_owner(key_holder, clock):
    key_holder.api.post("/v1/logout")
    assert webauthn_login(key_holder, key_holder.key, counter=7).status_code == 200
    key_holder.api.post("/v1/logout")
    cloned = webauthn_login(key_holder, key_holder.key, counter=5)
    assert cloned.status_code == 401 and cloned.json["error"] == "credential_suspicious"
    record = stored_method(key_holder.email, key_holder.key_method["id"], clock.now())
    assert record["suspicious_at"] and record["sign_count"] == 7
    assert mailbox(key_holder.api, key_holder.email, "may have been copied")
    # Blocked from now on, even with a higher count.
    again = webauthn_login(key_holder, key_holder.key, counter=50)
    assert again.status_code == 401 and again.json["error"] == "credential_suspicious"
    clock.advance(30)
    assert key_holder.login().status_code == 200   # other methods still work
    listed = {m["id"]: m for m in methods_of(key_holder)}
    assert listed[key_holder.key_method["id"]]["suspicious"] is True


def test_built_in_assertion_without_user_verification_is_refused(alice, clock):
    alice.step_up()
    platform = SoftAuthenticator("platform", user_verification=True)
    _, registered = register(alice, platform, "built_in")
    alice.api.post("/v1/logout")
    refused = webauthn_login(alice, platform, uv=False)
    assert refused.status_code == 401 and refused.json["error"] == "webauthn_failed"
    assert stored_method(alice.email, registered.json["method"]["id"], clock.now())["sign_count"] == 0


def test_unknown_credentials_and_those_of_another_account_are_refused(key_holder, make_client, clock):
    bob = Person(make_client(), clock, "bob@example.com").onboard()
    bob.step_up()
    bobs_key = SoftAuthenticator()
    assert register(bob, bobs_key, "security_key")[1].status_code == 201

    key_holder.api.post("/v1/logout")
    login_id, options = login_options(key_holder)
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": "AA"}, "challenge": "AA"})
    unknown = key_holder.api.post(f"/v1/login/{login_id}/verify", {"credential": stranger.get(
        options, credential_id=next(iter(stranger.credentials)))})
    assert unknown.status_code == 401 and unknown.json["error"] == "unknown_credential"

    login_id, options = login_options(key_holder)
    bobs = key_holder.api.post(f"/v1/login/{login_id}/verify", {"credential": bobs_key.get(
        options, credential_id=next(iter(bobs_key.credentials)))})
    assert bobs.status_code == 401 and bobs.json["error"] == "unknown_credential"
    assert key_holder.api.get("/v1/account").status_code == 401


def test_webauthn_options_need_a_live_attempt_and_a_registered_credential(alice, clock):
    alice.api.post("/v1/logout")
    login_id = alice.start_login()
    none = alice.api.post(f"/v1/login/{login_id}/webauthn/options")
    assert none.status_code == 409 and none.json["error"] == "no_webauthn_methods"
    assert alice.api.post(f"/v1/login/{'0' * 32}/webauthn/options").status_code == 404
    clock.advance(301)
    assert alice.api.post(f"/v1/login/{login_id}/webauthn/options").status_code == 410


def test_proofs_must_be_a_code_or_a_credential(key_holder):
    key_holder.api.post("/v1/logout")
    login_id = key_holder.start_login()
    for body in ({}, {"code": "123456"}, {"method_id": key_holder.method_id, "code": "123456", "credential": {}}):
        refused = key_holder.api.post(f"/v1/login/{login_id}/verify", body)
        assert refused.status_code == 400 and refused.json["error"] == "invalid_request", body


# ---------------------------------------------------------------- removal

def test_removing_a_webauthn_method_removes_its_lookup(key_holder, make_client, clock):
    account_id = store.get_account(key_holder.email, int(clock.now()))["account_id"]
    assert [i["method_id"]["S"] for i in items_of(pk_prefix="CREDENTIAL#") if i["account_id"]["S"] == account_id] == \
        [key_holder.key_method["id"]]
    removed = key_holder.api.delete(f"/v1/account/methods/{key_holder.key_method['id']}", {"confirm": True})
    assert removed.status_code == 200, removed.json
    assert items_of(pk_prefix="CREDENTIAL#") == []
    key_holder.api.post("/v1/logout")
    login_id = key_holder.start_login()
    assert key_holder.api.post(f"/v1/login/{login_id}/webauthn/options").status_code == 409


def test_odd_transports_and_deeply_nested_client_data_are_handled(alice):
    import base64

    alice.step_up()
    key = SoftAuthenticator()
    options = alice.api.post("/v1/account/methods/webauthn/options", {"type": "security_key"}).json
    credential = key.create(options["public_key"])
    credential["response"]["transports"] = [["usb"], {"x": 1}, "nfc", 7]
    registered = alice.api.post("/v1/account/methods/webauthn", {"credential": credential})
    assert registered.status_code == 201 and registered.json["method"]["transports"] == ["nfc"]

    nested = base64.urlsafe_b64encode(b"[" * 3000).decode().rstrip("=")
    refused = alice.api.post("/v1/account/methods/webauthn", {"credential": {
        "id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": nested}}})
    assert refused.status_code == 404
