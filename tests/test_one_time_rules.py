"""One-time things used once, even by two requests that both read before either writes.

Each test stages the interleaving with the `race` fixture (tests/support/races.py): the
first request has read the one-time thing and is held just before its conditional write,
while the second reads the same state and runs to the end; then the first writes. Only the
conditions of the writes can refuse the first (one, or for some rules several guards side by
side), so each test fails every time they are missing: bench/mutants.py removes them and
runs these tests to prove it. The races for a TOTP
step, a recovery code, an emailed code, a push answer and a reset link live beside their
features (test_login, test_recovery_codes, test_email_code, test_push, test_passwords).
"""
from chalicelib import store
from tests.support.journeys import Person, mailbox, verification_token
from tests.support.phone import Phone
from tests.support.soft_authenticator import SoftAuthenticator
from tests.support.table import items_of
from tests.test_cli_login import poll, start
from tests.test_email_change import NEW, ask_change, change_link
from tests.test_webauthn import register


def test_a_verification_link_used_twice_at_once_verifies_once(api, make_client, clock, race):
    """Staged: the first has read the link's token and is about to use it when the second
    uses it; the token's condition (used once) and the account's (made once) refuse the
    first's write, which then answers as a retry of the same link: verified, once."""
    bob = Person(api, clock, "bob@example.com").sign_up(verify=False)
    token = verification_token(api, bob.email)
    first, second = make_client(), make_client()
    results = race(lambda: first.post("/v1/accounts/verify-email", {"token": token}),
                   lambda: second.post("/v1/accounts/verify-email", {"token": token}),
                   pause_before=(store, "transact"))
    assert [r.status_code for r in results] == [200, 200]
    verified = [e for e in items_of(sk_prefix="EVENT#") if e["kind"]["S"] == "email_verified"]
    assert len(verified) == 1
    assert bob.password_step().status_code == 200


def test_an_email_change_link_used_twice_at_once_moves_the_account_once(alice, api, make_client, race):
    """Staged: the first confirmation has read the token and the account and is about to
    move it when the second moves it."""
    ask_change(alice)
    token = change_link(api)
    first, second = make_client(), make_client()
    results = race(lambda: first.post("/v1/account/email/confirm", {"token": token}),
                   lambda: second.post("/v1/account/email/confirm", {"token": token}),
                   pause_before=(store, "transact"))
    assert [r.status_code for r in results] == [400, 200]
    assert results[0].json["error"] == "invalid_token"
    assert len(mailbox(api, "alice@example.com", "Your email address was changed")) == 1
    alice.email = NEW
    assert alice.password_step().status_code == 200


def approved_cli_login(api, cli) -> dict:
    started = start(cli)
    approved = api.post("/v1/cli/logins/approve", {"user_code": started["user_code"], "decision": "approve"})
    assert approved.status_code == 200, approved.json
    return started


def test_an_approved_device_code_yields_one_token_to_two_polls_at_once(alice, api, make_client, clock, race):
    """Staged: the first poll has read the approved login and is about to take it when the
    second poll (a poll interval later, so the poll-rate rule lets it through) takes it."""
    cli = make_client(origin=None)
    started = approved_cli_login(api, cli)
    clock.advance(5)

    def later_poll():
        clock.advance(5)
        return poll(cli, started["device_code"])

    first, second = race(lambda: poll(cli, started["device_code"]), later_poll, pause_before=(store, "transact"))
    assert second.status_code == 200, second.json
    assert first.status_code == 400 and first.json["error"] == "invalid_grant"
    assert [s["kind"] for s in api.get("/v1/account/sessions").json["sessions"]].count("cli") == 1


def test_a_cli_login_is_decided_once_by_two_browsers_at_once(alice, api, make_client, clock, race):
    """Staged: an approval has found the pending login and is about to record itself when a
    denial from another browser is recorded: the approval is refused, the login stays denied."""
    other = alice.in_another_browser(make_client())
    clock.advance(30)
    assert other.login().status_code == 200
    cli = make_client(origin=None)
    started = start(cli)
    decide = "/v1/cli/logins/approve"
    approve, deny = race(lambda: api.post(decide, {"user_code": started["user_code"], "decision": "approve"}),
                         lambda: other.api.post(decide, {"user_code": started["user_code"], "decision": "deny"}),
                         pause_before=(store, "ops_decide_cli_login"))
    assert deny.status_code == 200 and deny.json["status"] == "denied"
    assert approve.status_code == 409 and approve.json["error"] == "cli_login_not_pending"
    clock.advance(5)
    assert poll(cli, started["device_code"]).json["error"] == "access_denied"


def test_a_pairing_code_pairs_one_phone_even_when_two_use_it_at_once(alice, make_client, clock, race):
    """Staged: the first phone has read the pairing and is about to record itself when the
    second phone pairs with the same code."""
    alice.step_up()
    started = alice.api.post("/v1/account/methods/push/pairings", {}).json
    phones = [Phone(make_client(origin=None), clock, name) for name in ("Pixel 9", "Other phone")]
    first, second = race(*[lambda p=p: p.pair(started["pairing_code"]) for p in phones],
                         pause_before=(store, "transact"))
    assert second.status_code == 201, second.json
    assert first.status_code == 404 and first.json["error"] == "pairing_not_found"
    confirm = f"/v1/account/methods/push/pairings/{started['pairing_id']}/confirm"
    assert alice.api.post(confirm, {"phrase": phones[1].phrase}).status_code == 200
    assert phones[1].challenges().status_code == 200
    assert phones[0].device_id is None


def test_a_webauthn_step_up_challenge_answers_once_even_twice_at_once(alice, clock, race):
    """A synced passkey reports no signature count, so only the challenge being taken by the
    try's own write stops one assertion from stepping up twice. Staged: the first step-up
    has taken the challenge and checked the assertion, and is about to record its use, when
    the second sends the same assertion."""
    alice.step_up()
    passkey = SoftAuthenticator("platform", user_verification=True, counting=False, backup_eligible=True)
    _, registered = register(alice, passkey, "built_in")
    assert registered.status_code == 201, registered.json
    clock.advance(11 * 60)
    options = alice.api.post("/v1/account/step-up/webauthn/options").json["public_key"]
    assertion = passkey.get(options)
    first, second = race(*[lambda: alice.api.post("/v1/account/step-up", {"credential": assertion})] * 2,
                         pause_before=(store, "transact"))
    assert first.status_code == 200, first.json
    assert second.status_code == 401 and second.json["error"] == "challenge_expired"
