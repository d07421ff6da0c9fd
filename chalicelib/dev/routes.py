"""Development helpers (/_dev/), answering only in the local stage."""
from chalice import Blueprint

from chalicelib.api.http import endpoint
from chalicelib.config import get_settings
from chalicelib.dev import models as dev_models
from chalicelib.errors import not_found

bp = Blueprint(__name__)


@endpoint(bp, "/_dev/mailbox", "GET", summary="Local stage only: emails sent, newest first",
          response=dev_models.Mailbox, errors=(404,))
def mailbox(call):
    if not get_settings().dev_mailbox_enabled:
        raise not_found("page")
    from chalicelib.dev import mailbox as local_mailbox

    return dev_models.Mailbox(messages=local_mailbox.messages()).model_dump()


@endpoint(bp, "/_dev/pushes", "GET", summary="Local stage only: pushes and SMS messages SNS sent, newest first",
          response=dev_models.SentBySns, errors=(404,))
def pushes(call):
    if not get_settings().dev_mailbox_enabled:
        raise not_found("page")
    from chalicelib.dev import local_sns

    return dev_models.SentBySns(pushes=local_sns.pushes(), sms=local_sns.sms()).model_dump()
