"""Development helpers (/_dev/), answering only in local development (STAGE=local with a local
AWS, off Lambda: Settings.local_development): 404 elsewhere, where the code behind them
(localdev/mailbox.py, localdev/local_sns.py) is not even in the deployment zip: Chalice packages
app.py and chalicelib/ only. So the handlers import it lazily, after the stage check, and this is
the one place chalicelib may import localdev (tests/test_layers.py)."""
from chalice import Blueprint

from chalicelib.api.http import endpoint
from chalicelib.api.models import Reply
from chalicelib.config import get_settings
from chalicelib.errors import not_found

bp = Blueprint(__name__)


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


@endpoint(bp, "/_dev/mailbox", "GET", summary="Local stage only: emails sent, newest first",
          response=Mailbox, errors=(404,))
def mailbox(call):
    if not get_settings().dev_mailbox_enabled:
        raise not_found("page")
    from localdev import mailbox as local_mailbox

    return Mailbox(messages=local_mailbox.messages()).model_dump()


@endpoint(bp, "/_dev/pushes", "GET", summary="Local stage only: pushes and SMS messages SNS sent, newest first",
          response=SentBySns, errors=(404,))
def pushes(call):
    if not get_settings().dev_mailbox_enabled:
        raise not_found("page")
    from localdev import local_sns

    return SentBySns(pushes=local_sns.pushes(), sms=local_sns.sms()).model_dump()
