"""Email notices through the outbox, and the audit log."""
import boto3
import pytest

from tests.support.journeys import mailbox
from tests.support.table import items_of


@pytest.mark.parametrize("change, subject", [
    ("add", "A verification method was added"),
    ("rename", "A verification method was renamed"),
    ("remove", "A verification method was removed"),
    ("codes", "New recovery codes were generated"),
])
def test_each_change_is_emailed_with_when_where_and_what_to_do(alice, api, change, subject):
    second, second_secret = alice.add_totp("Tablet")
    if change == "rename":
        api.request("PATCH", f"/v1/account/methods/{second}", {"label": "Old tablet"})
    elif change == "remove":
        api.delete(f"/v1/account/methods/{second}", {"confirm": True})
    elif change == "codes":
        codes = api.post("/v1/account/recovery-codes").json["codes"]
    [notice] = mailbox(api, alice.email, subject)[:1]
    text = notice["text"]
    assert "When: 2027-01-15 08:" in text
    assert "IP address" in text and "pytest-browser/1.0" in text
    assert "If this was not you" in text
    assert second_secret not in text and alice.secret not in text
    if change == "codes":
        assert not any(c in text for c in codes)
    assert items_of(sk="OUTBOX") == []  # delivered and removed


def test_lockout_notice_goes_through_the_outbox(alice, api):
    for _ in range(10):
        login_id = alice.start_login()
        api.post(f"/v1/login/{login_id}/verify", {"method_id": alice.method_id, "code": "000000"})
    [notice] = mailbox(api, alice.email, "locked after failed attempts")
    assert "1 minute(s)" in notice["text"] and "IP address" in notice["text"]


def test_a_failed_send_neither_undoes_the_change_nor_loses_the_notice(alice, api, monkeypatch):
    from chalicelib import notify
    from chalicelib.ledger import outbox

    def ses_down(*args, **kwargs):
        raise RuntimeError("SES is unavailable")

    working_send = notify.send
    monkeypatch.setattr(notify, "send", ses_down)
    renamed = api.request("PATCH", f"/v1/account/methods/{alice.method_id}", {"label": "Renamed"})
    assert renamed.status_code == 200
    assert api.get("/v1/account/methods").json["methods"][0]["label"] == "Renamed"
    [pending] = items_of(sk="OUTBOX")
    monkeypatch.setattr(notify, "send", working_send)
    notice_id = pending["PK"]["S"].removeprefix("OUTBOX#")
    assert outbox.deliver(notice_id) is True
    assert outbox.deliver(notice_id) is False  # delivered once
    assert len(mailbox(api, alice.email, "renamed")) == 1
    assert items_of(sk="OUTBOX") == []


def test_stream_handler_delivers_notices_from_the_table_stream(alice, api, app_module, monkeypatch):
    """With OUTBOX_DELIVERY=stream (deployed stages) nothing is sent inline; the Lambda fed
    by the table's stream sends it, and a redelivered batch sends nothing twice."""
    from chalicelib.config import get_settings

    monkeypatch.setattr("chalicelib.ledger.outbox.get_settings",
                        lambda: get_settings().replace(outbox_delivery="stream"))
    # botocore sends ARN-bearing calls to an account-specific host moto does not route.
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    stream_arn = boto3.client("dynamodb").describe_table(TableName="mfa-local")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                          ShardIteratorType="LATEST")["ShardIterator"]
    before = len(mailbox(api, alice.email))

    assert api.request("PATCH", f"/v1/account/methods/{alice.method_id}", {"label": "Streamed"}).status_code == 200
    assert len(mailbox(api, alice.email)) == before
    assert len(items_of(sk="OUTBOX")) == 1

    records = streams.get_records(ShardIterator=iterator)["Records"]
    event = {"Records": [{"eventName": r["eventName"], "dynamodb": {"Keys": r["dynamodb"]["Keys"]}} for r in records]}
    assert app_module.outbox_delivery(event, None) == {"delivered": 1}
    assert app_module.outbox_delivery(event, None) == {"delivered": 0}
    assert len(mailbox(api, alice.email, "renamed")) == 1
    assert items_of(sk="OUTBOX") == []


def events(api, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.get("/v1/account/events" + (f"?{query}" if query else ""))


def test_security_events_are_recorded(alice, api, clock):
    def then():
        clock.advance(1)

    login_id = alice.start_login()
    api.post(f"/v1/login/{login_id}/verify", {"method_id": alice.method_id, "code": "000000"})
    then()
    api.post("/v1/login", {"email": alice.email, "password": "wrong password here"})
    clock.advance(30)
    alice.login()
    alice.step_up()
    then()
    api.request("PATCH", f"/v1/account/methods/{alice.method_id}", {"label": "Renamed"})
    then()
    codes = api.post("/v1/account/recovery-codes").json
    then()
    second, _ = alice.add_totp()
    then()
    api.delete(f"/v1/account/methods/{second}", {"confirm": True})
    then()
    login_id = alice.start_login()
    api.post(f"/v1/login/{login_id}/verify", {"method_id": codes["method_id"], "code": codes["codes"][0]})
    kinds = [e["kind"] for e in events(api, limit=100).json["events"]]
    # Events of one instant (the frozen clock) come in any order among themselves.
    assert sorted(kinds[:2]) == ["login_succeeded", "recovery_code_used"]
    assert kinds[2:10] == [
        "method_removed", "method_added",              # the second TOTP
        "recovery_codes_generated", "method_renamed", "step_up_succeeded", "login_succeeded",
        "login_failed", "login_failed",
    ]
    assert sorted(kinds[10:]) == ["email_verified", "enrollment_session_started", "method_added", "signup"]
    page = events(api, limit=100).json["events"]
    login = next(e for e in page if e["kind"] == "login_succeeded")
    assert login["details"]["method_type"] == "recovery_codes" and login["details"]["remaining"] == 9
    assert [e["details"].get("reason") for e in page if e["kind"] == "login_failed"] == [
        "invalid_password", "invalid_code"]
    assert all(e["ip"] and e["user_agent"] == "pytest-browser/1.0" for e in page if e["kind"] != "signup") 


def test_events_page_newest_first_with_a_cursor(alice, api, clock):
    for label in ("a", "b", "c", "d", "e"):
        clock.advance(1)
        api.request("PATCH", f"/v1/account/methods/{alice.method_id}", {"label": label})
    everything = events(api, limit=100).json["events"]
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = events(api, **params).json
        seen += page["events"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [e["id"] for e in seen] == [e["id"] for e in everything]
    assert [e["at"] for e in seen] == sorted((e["at"] for e in seen), reverse=True)
    assert [e["details"]["label"] for e in seen[:5]] == ["e", "d", "c", "b", "a"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"cursor": "bm9wZQ"},
                                    {"cursor": "!!!"}])
def test_bad_event_queries_are_400(alice, api, params):
    response = events(api, **params)
    assert response.status_code == 400 and response.json["error"] in {"invalid_request", "invalid_cursor"}


def test_events_are_kept_400_days_and_expire_on_read(alice, api, clock):
    from chalicelib.services import audit

    account_id = api.get("/v1/account").json["id"]
    event_items = items_of(sk_prefix="EVENT#")
    assert event_items
    for item in event_items:
        assert int(item["expires_at"]["N"]) - int(item["at"]["N"]) == 400 * 24 * 3600
    assert audit.page(account_id, 100, None)["events"]
    clock.advance(400 * 24 * 3600 + 1)
    # Still in the table (TTL deletes late), but no longer shown.
    assert audit.page(account_id, 100, None)["events"] == []
