"""The local stage's mailbox: messages SES accepted, read back from the local AWS.

The embedded local AWS is moto running in this process (`make run`, tests), so its SES
backend is read directly; with LocalStack (LOCAL_AWS=localstack, or LOCAL_AWS=endpoint with
AWS_ENDPOINT_URL pointing at it) its `/_aws/ses` endpoint is read instead.
"""
import email
import email.policy
import json
import os
import re
import urllib.request

LINK = re.compile(r"https?://[^\s<>\"']+")

# Parsed messages by id: a sent message does not change, and parsing every one on every read
# made the mailbox slower with each email (12 s a read after a load test's few thousand).
_parsed: dict[str, dict] = {}


def _parse_raw(message_id: str, raw: bytes | str, destinations: list[str], sent_at: str | None) -> dict:
    known = _parsed.get(message_id)
    if known is not None:
        return known
    if isinstance(raw, str):
        raw = raw.encode()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    text = text_part.get_content() if text_part else ""
    header = parsed.get("To")
    recipients = [a.addr_spec for a in header.addresses] if header is not None else destinations
    _parsed[message_id] = message = {
        "id": message_id,
        "to": list(dict.fromkeys(recipients)),
        "subject": str(parsed.get("Subject", "")),
        "text": text,
        "links": LINK.findall(text),
        "sent_at": sent_at,
    }
    return message


def _from_moto() -> list[dict] | None:
    try:
        from moto.ses.models import RawMessage, ses_backends
    except ImportError:
        return None
    messages = []
    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            for sent in backend.sent_messages:
                if isinstance(sent, RawMessage):
                    messages.append(_parse_raw(sent.id, sent.raw_data, list(sent.destinations or []), None))
    return messages


def _from_localstack(endpoint: str) -> list[dict]:
    with urllib.request.urlopen(endpoint.rstrip("/") + "/_aws/ses", timeout=5) as response:
        data = json.load(response)
    messages = []
    for sent in data.get("messages", []):
        raw = sent.get("RawData")
        if raw:
            messages.append(_parse_raw(sent["Id"], raw, sent.get("Destination", {}).get("ToAddresses", []),
                                       sent.get("Timestamp")))
    return messages


def messages() -> list[dict]:
    """Newest first."""
    if os.environ.get("LOCAL_AWS") in ("localstack", "endpoint") and os.environ.get("AWS_ENDPOINT_URL"):
        found = _from_localstack(os.environ["AWS_ENDPOINT_URL"])
    else:
        found = _from_moto() or []
    return list(reversed(found))
