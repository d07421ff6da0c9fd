"""The local stage's view of what SNS sent: pushes to paired devices and SMS messages.

As localdev.mailbox does for SES: the embedded local AWS (moto in this process) is read
directly; LocalStack is read through its /_aws/sns endpoints.
"""
import json
import os
import urllib.request


def _decoded(value):
    """JSON, decoded as many times as it was encoded (LocalStack keeps the platform's
    message as a JSON string inside JSON)."""
    while isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return value


def _push(endpoint_arn: str, device_id: str, message_id: str, raw: str, sent_at: str | None) -> dict:
    """Moto keeps the whole MessageStructure=json document; LocalStack the platform's part."""
    message = _decoded(raw)
    if isinstance(message, dict) and ("GCM" in message or "APNS" in message):
        text = message.get("default", "")
        message = _decoded(message.get("GCM") or message.get("APNS"))
    else:
        text = None
    message = message if isinstance(message, dict) else {}
    data = message.get("data") or message
    text = text or (message.get("notification") or {}).get("body") or (message.get("aps") or {}).get("alert") or ""
    return {"id": message_id, "endpoint_arn": endpoint_arn, "device_id": device_id, "text": text,
            "challenge_id": data.get("challenge_id"), "sent_at": sent_at}


def _localstack(path: str) -> dict:
    with urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"].rstrip("/") + path, timeout=5) as response:
        return json.load(response)


def _on_localstack() -> bool:
    return os.environ.get("LOCAL_AWS") in ("localstack", "endpoint") and bool(os.environ.get("AWS_ENDPOINT_URL"))


def _moto_backends():
    from moto.sns.models import sns_backends

    for regions in list(sns_backends.values()):
        yield from list(regions.values())


def pushes() -> list[dict]:
    """Pushes sent to platform endpoints, newest first."""
    found = []
    if _on_localstack():
        for arn, messages in _localstack("/_aws/sns/platform-endpoint-messages").get(
                "platform_endpoint_messages", {}).items():
            for sent in messages:
                found.append(_push(arn, "", sent.get("MessageId", ""), sent.get("Message", ""), sent.get("Timestamp")))
    else:
        for backend in _moto_backends():
            for endpoint in list(backend.platform_endpoints.values()):
                for message_id, message in list(endpoint.messages.items()):
                    found.append(_push(endpoint.arn, endpoint.custom_user_data, message_id, message, None))
    return list(reversed(found))


def sms() -> list[dict]:
    """SMS messages sent, newest first."""
    found = []
    if _on_localstack():
        for number, messages in _localstack("/_aws/sns/sms-messages").get("sms_messages", {}).items():
            for sent in messages:
                found.append({"id": sent.get("MessageId", ""), "to": number, "text": sent.get("Message", ""),
                              "sent_at": sent.get("Timestamp")})
    else:
        for backend in _moto_backends():
            for message_id, (number, text) in list(backend.sms_messages.items()):
                found.append({"id": message_id, "to": number, "text": text, "sent_at": None})
    return list(reversed(found))
