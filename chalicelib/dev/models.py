"""The /_dev/ routes' replies."""
from chalicelib.api.models import Reply


class MailMessage(Reply):
    id: str
    to: list[str]
    subject: str
    text: str
    links: list[str]
    sent_at: str | None


class Mailbox(Reply):
    messages: list[MailMessage]


class PushSent(Reply):
    id: str
    endpoint_arn: str
    device_id: str
    text: str
    challenge_id: str | None
    sent_at: str | None


class SmsSent(Reply):
    id: str
    to: str
    text: str
    sent_at: str | None


class SentBySns(Reply):
    pushes: list[PushSent]
    sms: list[SmsSent]
