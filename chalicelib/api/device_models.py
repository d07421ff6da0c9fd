"""Bodies of the paired app's requests (POST /v1/devices and the signed /v1/devices/{device_id}/...)
and their replies."""
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.api.models import Body, Reply
from chalicelib.records import PlainText


class DeviceRegistration(Body):
    pairing_code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    public_key: dict[str, Any] | Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="the device's P-256 public key: a JWK {kty: EC, crv: P-256, x, y}, or SPKI as DER base64 or PEM")
    push_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    platform: Literal["apns", "fcm"]
    device_name: PlainText(100)


class ChallengeDecision(Body):
    decision: Literal["approve", "deny", "fraud"] = Field(description="fraud: \"this wasn't me\", as deny with "
                                                          "report_fraud")
    number: int | None = Field(None, ge=0, le=99, description="with approve: the number the browser shows, as the "
                               "person typed it in the app; any other number is a denial")
    report_fraud: bool = Field(False, description="\"this wasn't me\": ends the login, pauses push for the account "
                               "and alerts the owner")


class PushTokenUpdate(Body):
    push_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class DeviceRegistered(Reply):
    device_id: str
    confirmation_phrase: str = Field(description="shown in the app; the person types it into the browser")


class ChallengeContext(Reply):
    model_config = ConfigDict(extra="allow", defer_build=True)
    time: int
    ip: str
    location: str | None
    browser: str
    os: str
    user_agent: str


class DeviceChallenge(Reply):
    challenge_id: str
    purpose: Literal["login", "step_up"]
    created_at: int
    expires_at: int
    context: ChallengeContext


class DeviceChallenges(Reply):
    challenges: list[DeviceChallenge]


class ChallengeDecided(Reply):
    status: Literal["approved", "denied"]
    reason: str | None = Field(description="why it counts as a denial: denied, wrong_number, fraud_report, "
                               "push_blocked")
