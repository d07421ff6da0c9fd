"""Pairing a mobile authenticator app: the app's side (a pairing code and the device's key,
answered with a confirmation phrase) and the browser's (typing that phrase)."""
import base64

from chalicelib import crypto, errors, sns, store
from chalicelib.clock import is_id, now_s, random_bytes, random_id
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.ledger import limits
from chalicelib.ledger.change import Change
from chalicelib.methods import push as push_method
from chalicelib.records import Client, MethodStatus
from chalicelib.services import account_methods

PAIRING_LIMIT_WINDOW = 600
PHRASE_TRIES = 5


def invalid_public_key() -> ApiError:
    return ApiError(400, "invalid_public_key", "public_key must be a P-256 key, as a JWK or an SPKI (DER base64 or PEM).")


def pairing_expired() -> ApiError:
    return ApiError(410, "pairing_expired", "This pairing expired or had too many wrong phrases. Start again.")


def pairing_not_found() -> ApiError:
    return ApiError(404, "pairing_not_found",
                    "This pairing code is unknown, already used or expired. Start pairing again in the browser.")


def register_device(pairing_code: str, public_key, push_token: str, platform: str, device_name: str,
                    client: Client) -> dict:
    """The app's side of pairing (no session): the device and its key are recorded on the
    pending method, and the phrase the person must type in the browser is returned."""
    n = now_s()
    s = get_settings()
    by_ip = ("device-pairing-ip", client.ip_or_unknown, s.device_pairing_limit_per_ip)
    code = push_method.normalise_pairing_code(pairing_code)
    try:
        spki = crypto.p256_public_key_spki(public_key)
    except crypto.InvalidPublicKey:
        raise invalid_public_key() from None
    pairing = store.get_pairing(push_method.pairing_code_hash(code), n) if code else None
    if pairing is None:
        limits.enforce(PAIRING_LIMIT_WINDOW, by_ip)   # a wrong guess counts too
        raise pairing_not_found()
    device_id = random_id()
    phrase = push_method.new_phrase()
    salt = random_bytes(16).hex()
    endpoint_arn = sns.create_endpoint(platform, push_token, device_id)
    device = {"device_id": device_id, "account_id": pairing["account_id"], "method_id": pairing["method_id"],
              "email": pairing["email"], "public_key": base64.b64encode(spki).decode(), "platform": platform,
              "device_name": device_name, "endpoint_arn": endpoint_arn,
              "push_token_hash": crypto.hash_token(push_token), "status": MethodStatus.PENDING,
              "created_at": n, "expires_at": pairing["expires_at"]}
    change = Change(pairing["account_id"], pairing["email"], client).limit(PAIRING_LIMIT_WINDOW, by_ip).add(
        store.op_consume_pairing(push_method.pairing_code_hash(code), n),
        store.op_put_device(device_id, device),
        store.op_attach_device(pairing["account_id"], pairing["method_id"], n, {
            "device_id": device_id, "device_name": device_name, "platform": platform,
            "endpoint_arn": endpoint_arn, "phrase_hash": push_method.phrase_digest(phrase, salt),
            "phrase_salt": salt}),
        on_fail=pairing_not_found())
    try:
        change.commit()
    except Exception:
        sns.forget_endpoint(endpoint_arn)
        raise
    return {"device_id": device_id, "confirmation_phrase": phrase}


def confirm_pairing(session: dict, pairing_id: str, phrase: str, client: Client):
    """The browser's side: the phrase the app shows activates the push method. Five wrong
    phrases end the pairing; a wrong one answers how many tries are left (`tries_left`)."""
    if not is_id(pairing_id):
        raise errors.method_not_found("No such pairing, or it expired. Start again.")
    try:
        used = store.reserve_enrollment_try(session["account_id"], pairing_id, now_s(), PHRASE_TRIES)
    except store.ConditionFailed:
        raise pairing_expired() from None
    try:
        return account_methods.confirm(session, pairing_id, {"phrase": phrase}, client,
                                       types={push_method.PushMethod.type})
    except ApiError as refusal:
        if refusal.code == push_method.PushMethod.enrollment_refusal[0]:
            refusal.extra["tries_left"] = PHRASE_TRIES - used
        raise
