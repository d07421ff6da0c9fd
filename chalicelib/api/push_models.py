"""What the browser is answered when it sends a push (login or step-up) and polls for the
phone's answer."""
from typing import Literal

from pydantic import Field

from chalicelib.api.models import Reply


class PushStarted(Reply):
    challenge_id: str
    number: int = Field(description="two digits: the browser shows it, the person types it in the app")
    expires_at: int
    notified: bool = Field(description="false when the push could not be sent: the app still lists the request")


class PushStatus(Reply):
    status: Literal["pending", "approved", "denied", "expired"]
    challenge_id: str | None
    expires_at: int | None
    reason: str | None = Field(None, description="why it was denied or ended: denied (on the phone), wrong_number "
                               "(the number typed was not this one), fraud_report (\"this wasn't me\": the login "
                               "attempt ended), push_blocked (push was paused after a fraud report)")
