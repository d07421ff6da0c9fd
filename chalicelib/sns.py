"""SNS: mobile push to paired authenticator apps (platform endpoints under the stage's APNs
and FCM platform applications) and the deprecated SMS.

A push carries only the challenge id and a generic sentence: no number, no code, nothing
that helps whoever reads notifications on a locked screen.
"""
import json
import logging
import re

from chalicelib import aws
from chalicelib.config import get_settings

log = logging.getLogger(__name__)


class PushUnavailable(Exception):
    """The stage has no platform application for this platform (APNs or FCM)."""

    def __init__(self, platform: str):
        super().__init__(platform)
        self.platform = platform


class PushTokenRefused(ValueError):
    """The push service refused a device's push token; `again` when it was a known device's new one."""

    def __init__(self, platform: str, again: bool = False):
        super().__init__(platform)
        self.platform, self.again = platform, again
PUSH_TEXT = "A login to {service} is waiting for your answer. Open the app to review it."


def _platform_application(platform: str) -> str:
    settings = get_settings()
    arn = settings.apns_platform_application_arn if platform == "apns" else settings.fcm_platform_application_arn
    if not arn:
        raise PushUnavailable(platform)
    return arn


EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:aws[\w-]*:sns:\S+) already exists")


def create_endpoint(platform: str, push_token: str, device_id: str) -> str:
    """A platform endpoint for the token. A token paired before (an abandoned pairing, a
    re-install) already has one: SNS names it in its refusal, and it is taken over, as AWS
    recommends."""
    from botocore.exceptions import ClientError

    try:
        return aws.client("sns").create_platform_endpoint(
            PlatformApplicationArn=_platform_application(platform), Token=push_token,
            CustomUserData=device_id)["EndpointArn"]
    except ClientError as error:
        existing = EXISTING_ENDPOINT.search(error.response.get("Error", {}).get("Message", ""))
        if existing:
            set_token(existing.group(1), push_token, platform, device_id)
            return existing.group(1)
        if error.response.get("Error", {}).get("Code") in ("InvalidParameter", "InvalidParameterException"):
            raise PushTokenRefused(platform) from None
        raise


def set_token(endpoint_arn: str, push_token: str, platform: str, device_id: str) -> None:
    from botocore.exceptions import ClientError

    try:
        aws.client("sns").set_endpoint_attributes(EndpointArn=endpoint_arn, Attributes={
            "Token": push_token, "Enabled": "true", "CustomUserData": device_id})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("InvalidParameter", "InvalidParameterException", "NotFound"):
            raise PushTokenRefused(platform, again=True) from None
        raise


def forget_endpoint(endpoint_arn: str | None) -> None:
    """Best effort: a leftover endpoint is only a stale address, never used again."""
    if not endpoint_arn:
        return
    try:
        aws.client("sns").delete_endpoint(EndpointArn=endpoint_arn)
    except Exception:   # noqa: BLE001 — the removal already committed; nothing to undo
        log.warning("could not delete SNS endpoint %s", endpoint_arn, exc_info=True)


def push_challenge(endpoint_arn: str, challenge_id: str) -> bool:
    """Notify the app; False when the push could not be sent (the app still sees the
    challenge when it next lists them)."""
    text = PUSH_TEXT.format(service=get_settings().service_name)
    data = {"type": "mfa_challenge", "challenge_id": challenge_id}
    apns = json.dumps({"aps": {"alert": text, "sound": "default", "category": "MFA_CHALLENGE"}, **data})
    message = {"default": text, "APNS": apns, "APNS_SANDBOX": apns,
               "GCM": json.dumps({"notification": {"body": text}, "data": data})}
    try:
        aws.client("sns").publish(TargetArn=endpoint_arn, Message=json.dumps(message), MessageStructure="json")
    except Exception:   # noqa: BLE001 — a disabled endpoint or an SNS outage must not fail the login
        log.warning("push to %s failed", endpoint_arn, exc_info=True)
        return False
    return True


def send_sms(phone_number: str, text: str) -> None:
    aws.client("sns").publish(PhoneNumber=phone_number, Message=text,
                              MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String",
                                                                         "StringValue": "Transactional"}})
