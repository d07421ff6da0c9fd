"""Cancel on the push waiting screen withdraws the request on the server (DELETE on the
challenge, owned by the login attempt or the session): the app no longer lists it and cannot
approve it, the login cannot be completed with it, and it no longer counts among the account's
unanswered requests."""
from tests.support.phone import start_push_login
from tests.test_push import paired  # noqa: F401 - Alice with TOTP and a paired phone


def test_a_withdrawn_login_push_leaves_the_phone_and_cannot_approve(paired):  # noqa: F811
    login_id, pushed = start_push_login(paired)
    challenge_id = pushed["challenge_id"]
    assert [c["challenge_id"] for c in paired.phone.challenges().json["challenges"]] == [challenge_id]

    withdrawn = paired.api.delete(f"/v1/login/{login_id}/push/{challenge_id}")
    assert withdrawn.status_code == 200, withdrawn.json
    assert paired.phone.challenges().json["challenges"] == []
    status = paired.api.get(f"/v1/login/{login_id}").json
    assert (status["status"], status["reason"]) == ("denied", "cancelled")
    late = paired.phone.answer(challenge_id, "approve", pushed["number"])
    assert (late.status_code, late.json["error"]) == (409, "already_decided")
    refused = paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": challenge_id})
    assert (refused.status_code, refused.json["error"]) == (401, "push_denied")
    again = paired.api.delete(f"/v1/login/{login_id}/push/{challenge_id}")
    assert again.status_code == 200   # a retried cancel is answered the same
    events = paired.api.get("/v1/account/events?limit=50")
    assert events.status_code == 401   # logged out: the audit is checked after the login below

    # The attempt goes on: a new push can be sent and approved.
    renewed = paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]}).json
    paired.phone.answer(renewed["challenge_id"], "approve", renewed["number"])
    assert paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": renewed["challenge_id"]}).status_code == 200
    kinds = [e["kind"] for e in paired.api.get("/v1/account/events?limit=50").json["events"]]
    assert kinds.count("push_cancelled") == 1, kinds


def test_only_the_attempts_browser_and_its_current_push_can_be_withdrawn(paired, make_client):  # noqa: F811
    login_id, pushed = start_push_login(paired)
    challenge_id = pushed["challenge_id"]
    elsewhere = make_client().delete(f"/v1/login/{login_id}/push/{challenge_id}")
    assert (elsewhere.status_code, elsewhere.json["error"]) == (403, "login_other_browser")
    other_login, _ = start_push_login(paired)   # this browser's newer login: its cookie is the newer one's
    crossed = paired.api.delete(f"/v1/login/{other_login}/push/{challenge_id}")
    assert (crossed.status_code, crossed.json["error"]) == (404, "challenge_not_found")
    assert paired.api.delete(f"/v1/login/{other_login}/push/not-an-id").status_code == 404
    assert len(paired.phone.challenges().json["challenges"]) == 2


def test_an_answered_push_cannot_be_withdrawn(paired):  # noqa: F811
    login_id, pushed = start_push_login(paired)
    paired.phone.answer(pushed["challenge_id"], "deny")
    answered = paired.api.delete(f"/v1/login/{login_id}/push/{pushed['challenge_id']}")
    assert (answered.status_code, answered.json["error"]) == (409, "already_decided")


def test_a_withdrawn_push_frees_its_pending_slot(paired):  # noqa: F811
    pushes = [start_push_login(paired) for _ in range(3)]
    login_id, current = pushes[-1]   # the login this browser's cookie is for
    fourth = paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]})
    assert fourth.status_code == 429 and fourth.headers["Retry-After"] == str(fourth.json["retry_after"])
    assert paired.api.delete(f"/v1/login/{login_id}/push/{current['challenge_id']}").status_code == 200
    assert paired.api.post(f"/v1/login/{login_id}/push", {"method_id": paired.push_method["id"]}).status_code == 201


def test_a_step_up_push_is_withdrawn_by_its_session(paired, clock, make_client):  # noqa: F811
    paired.login()
    clock.advance(601)
    pushed = paired.api.post("/v1/account/step-up/push", {"method_id": paired.push_method["id"]}).json
    challenge_id = pushed["challenge_id"]
    assert paired.api.delete(f"/v1/account/step-up/push/{challenge_id}").status_code == 200
    assert paired.phone.challenges().json["challenges"] == []
    assert paired.api.get(f"/v1/account/step-up/push/{challenge_id}").json["status"] == "denied"
    refused = paired.api.post("/v1/account/step-up", {"challenge_id": challenge_id})
    assert (refused.status_code, refused.json["error"]) == (401, "push_denied")
    logged_out = make_client().delete(f"/v1/account/step-up/push/{challenge_id}")
    assert logged_out.status_code == 401


def test_a_cancel_and_an_approval_at_once_cannot_both_win(paired, race):  # noqa: F811
    """Staged both ways: each has read the push as pending and is about to write when the
    other one writes; the first write wins and the other is refused, so a withdrawn push is
    never approved and an approved one is never withdrawn under the browser."""
    from chalicelib import store

    login_id, pushed = start_push_login(paired)
    challenge_id, number = pushed["challenge_id"], pushed["number"]
    cancel = lambda: paired.api.delete(f"/v1/login/{login_id}/push/{challenge_id}")  # noqa: E731
    approve = lambda: paired.phone.answer(challenge_id, "approve", number)  # noqa: E731
    late_cancel, approved = race(cancel, approve, pause_before=(store, "transact"))
    assert (approved.status_code, late_cancel.status_code, late_cancel.json["error"]) == (200, 409, "already_decided")
    assert paired.api.post(f"/v1/login/{login_id}/verify", {"challenge_id": challenge_id}).status_code == 200

    login_id, pushed = start_push_login(paired)
    challenge_id, number = pushed["challenge_id"], pushed["number"]
    late_approval, cancelled = race(approve, cancel, pause_before=(store, "transact"))
    assert (cancelled.status_code, late_approval.status_code) == (200, 409), late_approval.json
    assert paired.api.get(f"/v1/login/{login_id}").json["reason"] == "cancelled"
    assert paired.phone.challenges().json["challenges"] == []
