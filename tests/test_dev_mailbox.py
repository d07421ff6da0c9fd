"""The local stage's dev mailbox reads each sent email once: a read parses only what was sent
since the last one (parsing all of them on every read took 12 s a read after a load test)."""
import email

from tests.support.journeys import Person, mailbox


def test_each_email_is_parsed_once_and_new_ones_still_show(api, clock, monkeypatch):
    parsed = []
    parse = email.message_from_bytes
    monkeypatch.setattr(email, "message_from_bytes", lambda raw, **kwargs: parsed.append(raw) or parse(raw, **kwargs))

    Person(api, clock, "first@example.com").sign_up(verify=False)
    first = mailbox(api)
    assert [m["to"] for m in first] == [["first@example.com"]] and len(parsed) == 1

    assert mailbox(api) == first and len(parsed) == 1   # read again: nothing parsed again

    Person(api, clock, "second@example.com").sign_up(verify=False)
    second = mailbox(api)
    assert [m["to"] for m in second] == [["second@example.com"], ["first@example.com"]]   # newest first
    assert second[1] == first[0] and len(parsed) == 2
