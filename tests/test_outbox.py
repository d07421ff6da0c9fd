"""Nothing lost in the outbox, nothing mailed twice: SES failing for a while then recovering
delivers every notice once, by the stream handler or by the sweeper; senders racing for one
notice (a redelivered stream batch, a sweeper run, a redrive) mail it once; a batch the stream
gave up on reaches the dead-letter queue and `python -m ops.outbox redrive` delivers it."""
import json

import boto3
import pytest

from tests.support.faults import ALWAYS, UNAVAILABLE
from tests.support.journeys import mailbox
from tests.support.outbox import Stream, sweep
from tests.support.table import items_of

RENAMED = "A verification method was renamed"


def rename(api, alice, *labels: str) -> None:
    for label in labels:
        assert api.request("PATCH", f"/v1/account/methods/{alice.method_id}", {"label": label}).status_code == 200


def renamed_to(api, alice) -> list[str]:
    """The new labels the renaming notices mailed so far name, sorted (notices of one instant
    are sent in any order)."""
    return sorted(m["text"].split("is now called \"")[1].split("\"")[0] for m in mailbox(api, alice.email, RENAMED))


@pytest.fixture
def streamed(monkeypatch):
    """OUTBOX_DELIVERY=stream, as deployed: nothing is sent inline."""
    from chalicelib.config import get_settings

    # Not through the environment: Chalice's test client sets the local stage's for each request.
    monkeypatch.setattr("chalicelib.ledger.outbox.get_settings",
                        lambda: get_settings().replace(outbox_delivery="stream"))


def test_ses_failing_then_recovering_delivers_every_notice_once_through_the_stream(
        alice, api, app_module, clock, faults, streamed):
    stream = Stream()
    faults.fail("ses", UNAVAILABLE, times=ALWAYS)
    rename(api, alice, "First", "Second", "Third")
    batch = {"Records": stream.batch()}
    # Lambda retries the failing batch; the sweeper runs meanwhile; both fail while SES does.
    for _ in range(3):
        with pytest.raises(Exception, match="injected"):
            app_module.outbox_delivery(batch, None)
        clock.advance(60)
    assert sweep(app_module)["failed"] == 1   # an outage ends the run at the first failure
    assert mailbox(api, alice.email, RENAMED) == []
    assert len(items_of(sk="OUTBOX")) == 3

    faults.clear()
    assert app_module.outbox_delivery(batch, None) == {"delivered": 3}
    assert app_module.outbox_delivery(batch, None) == {"delivered": 0}   # redelivered: nothing twice
    assert sweep(app_module)["delivered"] == 0
    assert renamed_to(api, alice) == ["First", "Second", "Third"]
    assert items_of(sk="OUTBOX") == []


def test_ses_failing_then_recovering_delivers_every_notice_once_through_the_sweeper(
        alice, api, app_module, clock, faults):
    """Inline delivery (the local stage) fails with SES; the sweeper sends the notices once they
    have been pending OUTBOX_PENDING_AFTER_SECONDS."""
    faults.fail("ses", UNAVAILABLE, times=ALWAYS)
    rename(api, alice, "First", "Second")
    assert len(items_of(sk="OUTBOX")) == 2
    assert sweep(app_module) == {"listed": 0, "delivered": 0, "failed": 0}   # not pending long enough
    clock.advance(60)
    assert sweep(app_module) == {"listed": 2, "delivered": 0, "failed": 1}
    rename(api, alice, "Third")
    faults.clear()
    assert sweep(app_module) == {"listed": 2, "delivered": 2, "failed": 0}
    clock.advance(60)
    assert sweep(app_module) == {"listed": 1, "delivered": 1, "failed": 0}
    assert sweep(app_module) == {"listed": 0, "delivered": 0, "failed": 0}
    assert renamed_to(api, alice) == ["First", "Second", "Third"]
    assert items_of(sk="OUTBOX") == []


def test_a_backlog_is_swept_a_slice_at_a_time(api, app_module, clock, monkeypatch):
    from chalicelib.ledger import outbox

    monkeypatch.setattr(outbox, "SWEEP_PER_PARTITION", 1)
    for _ in range(30):
        _queued_notice()
        clock.advance(1)
    clock.advance(60)
    runs = []
    while items_of(sk="OUTBOX"):
        runs.append(sweep(app_module))
        assert len(runs) <= 30
    # One notice per outbox partition per run, each delivered once.
    assert all(run["listed"] <= 10 and run["delivered"] == run["listed"] for run in runs)
    assert sum(run["delivered"] for run in runs) == 30
    assert len(mailbox(api, "alice@example.com", "Your password was changed")) == 30


def test_a_failed_send_is_counted_and_named_for_operators(alice, api, clock, faults):
    from chalicelib.services import outbox as outbox_service

    faults.fail("ses", UNAVAILABLE, times=ALWAYS)
    rename(api, alice, "First")
    clock.advance(125)
    [pending] = outbox_service.status()["pending"]
    assert {k: pending[k] for k in ("kind", "age_seconds", "attempts", "claimed", "last_error")} == {
        "kind": "method_renamed", "age_seconds": 125, "attempts": 1, "claimed": False, "last_error": "ClientError"}


def _queued_notice(email: str = "alice@example.com") -> str:
    from chalicelib import store
    from chalicelib.ledger import outbox
    from chalicelib.records import Client

    notice_id, queued = outbox.notice(email, "password_changed", Client(), ended=0)
    store.transact([queued])
    return notice_id


def _stream_event(notice_id: str) -> dict:
    return {"Records": [{"eventName": "INSERT",
                         "dynamodb": {"Keys": {"PK": {"S": f"OUTBOX#{notice_id}"}, "SK": {"S": "OUTBOX"}}}}]}


@pytest.mark.parametrize("other_sender", ["the redelivered stream batch", "the sweeper", "a redrive", "inline"])
def test_two_senders_racing_for_one_notice_mail_it_once(api, app_module, clock, race, streamed, other_sender):
    """Staged: the stream handler has claimed the notice and is about to send it when another
    sender tries the same notice. Without the claim's condition both would mail it."""
    from chalicelib import notify
    from chalicelib.ledger import outbox
    from chalicelib.services import outbox as outbox_service

    notice_id = _queued_notice()
    clock.advance(600)
    others = {
        "the redelivered stream batch": lambda: app_module.outbox_delivery(_stream_event(notice_id), None)["delivered"],
        "the sweeper": lambda: sweep(app_module)["delivered"],
        "a redrive": lambda: outbox_service.redrive()["delivered"],
        "inline": lambda: int(outbox.deliver(notice_id)),
    }
    results = race(lambda: app_module.outbox_delivery(_stream_event(notice_id), None)["delivered"],
                   others[other_sender], pause_before=(notify, "send"))
    assert results == [1, 0]
    assert len(mailbox(api, "alice@example.com", "Your password was changed")) == 1
    assert items_of(sk="OUTBOX") == []


def test_a_sender_that_died_holding_a_notice_leaves_it_to_the_sweeper_once_its_lease_ends(api, app_module, clock):
    from chalicelib import store
    from chalicelib.config import get_settings

    notice_id = _queued_notice()
    clock.advance(60)
    # A sender claimed it and was cut off before sending (a Lambda timeout, a crash).
    now = int(clock.now())
    assert store.claim_notice(notice_id, "died", now, now + get_settings().outbox_lease_seconds)
    assert sweep(app_module) == {"listed": 1, "delivered": 0, "failed": 0}
    clock.advance(get_settings().outbox_lease_seconds)
    assert sweep(app_module) == {"listed": 1, "delivered": 1, "failed": 0}
    assert len(mailbox(api, "alice@example.com", "Your password was changed")) == 1


@pytest.fixture
def dead_letter_queue(local_aws, monkeypatch):
    """The stream consumer's on-failure destination, named to the stage as deployed."""
    from chalicelib.config import get_settings

    url = boto3.client("sqs").create_queue(QueueName="mfa-local-outbox-dead-letters")["QueueUrl"]
    monkeypatch.setenv("OUTBOX_DEAD_LETTER_QUEUE_URL", url)
    get_settings.cache_clear()
    return url


def _dead_letters(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attributes["Attributes"].values())


def test_a_poisoned_batch_reaches_the_dead_letter_queue_and_redrive_delivers_it_once(
        alice, api, app_module, clock, faults, streamed, dead_letter_queue, capsys):
    from ops import outbox as ops_outbox

    stream = Stream()
    faults.fail("ses", UNAVAILABLE, times=ALWAYS)
    rename(api, alice, "Poisoned")
    records = stream.batch()
    with pytest.raises(Exception, match="injected"):
        app_module.outbox_delivery({"Records": records}, None)
    # Lambda gives up on the batch (its retries or the record's age are spent) and sends its
    # description to the on-failure destination.
    boto3.client("sqs").send_message(QueueUrl=dead_letter_queue,
                                     MessageBody=stream.on_failure_record(records, clock.now()))
    # Something else a person put there is no stream batch: kept for them to look at.
    boto3.client("sqs").send_message(QueueUrl=dead_letter_queue, MessageBody="not a Lambda record")
    clock.advance(3600)

    assert ops_outbox.main(["status"]) == 0
    shown = capsys.readouterr().out
    assert "1 notice(s) pending" in shown and "method_renamed" in shown and "1 h 00 min" in shown
    assert "1 attempt(s)" in shown and "last error: ClientError" in shown and "2 dead-letter message(s)" in shown

    # While SES still refuses, the dead letter stays.
    assert ops_outbox.main(["redrive"]) == 0
    assert capsys.readouterr().out == "0 notice(s) sent, 1 failed; 0 dead letter(s) removed, 2 kept\n"
    assert _dead_letters(dead_letter_queue) == 2

    faults.clear()
    assert ops_outbox.main(["redrive"]) == 0
    assert capsys.readouterr().out == "1 notice(s) sent, 0 failed; 1 dead letter(s) removed, 1 kept\n"
    assert ops_outbox.main(["redrive"]) == 0
    assert capsys.readouterr().out == "0 notice(s) sent, 0 failed; 0 dead letter(s) removed, 1 kept\n"
    assert _dead_letters(dead_letter_queue) == 1
    assert renamed_to(api, alice) == ["Poisoned"]
    # The stream's own retry, had it come, sends nothing twice.
    assert app_module.outbox_delivery({"Records": records}, None) == {"delivered": 0}
    assert renamed_to(api, alice) == ["Poisoned"]


def test_a_link_waits_in_the_outbox_encrypted(person, faults):
    """A notice with a link (its token makes an account) is never stored in the clear."""
    from tests.support.journeys import PASSWORD

    faults.fail("ses", UNAVAILABLE, times=ALWAYS)
    assert person.api.post("/v1/accounts", {"email": person.email, "password": PASSWORD}).status_code == 202
    [pending] = items_of(sk="OUTBOX")
    assert "B" in pending["sealed_link"] and "link" not in pending["context"]["M"]
    assert "token=" not in json.dumps(pending, default=str)
