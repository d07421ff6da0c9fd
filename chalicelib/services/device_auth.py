"""Requests signed by a paired device (the mobile authenticator app), instead of a session.

The app signs, with its P-256 key (ECDSA, SHA-256, DER signature), the string

    METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex(SHA-256(body))

where PATH starts at /v1/ (the API base URL's own path is left out; device routes take no
query string), and sends `X-Device-Timestamp` (Unix seconds, within ±5 minutes of the server),
`X-Device-Nonce` (16–64 base64url characters, never reused) and `X-Device-Signature`
(base64url). A bad, stale or replayed signature is 401 and changes nothing; the nonce is
recorded only once the signature checked out.
"""
import base64
import binascii
import hashlib
import re

from chalicelib import errors, store
from chalicelib.clock import is_id, now_s
from chalicelib.config import get_settings

NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def authenticate(device_id: str, method: str, path: str, headers: dict, body: bytes) -> dict:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    n = now_s()
    timestamp, nonce = headers.get("x-device-timestamp", ""), headers.get("x-device-nonce", "")
    signature_text = headers.get("x-device-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and NONCE.match(nonce)
            and 0 < len(signature_text) <= 200):
        raise errors.invalid_signature("Sign the request: X-Device-Timestamp, X-Device-Nonce and X-Device-Signature are required.")
    if abs(int(timestamp) - n) > get_settings().device_signature_skew_seconds:
        raise errors.invalid_signature("The request's timestamp is too far from the server's time: check the phone's clock.")
    device = store.get_device(device_id, n) if is_id(device_id) else None
    if device is None:
        raise errors.invalid_signature("This device is not paired (any more). Pair it again from the browser.")
    try:
        signature = base64.urlsafe_b64decode(signature_text + "=" * (-len(signature_text) % 4))
        key = serialization.load_der_public_key(base64.b64decode(device["public_key"]))
        key.verify(signature, canonical(method, path, timestamp, nonce, body), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, binascii.Error):
        raise errors.invalid_signature() from None
    if device["status"] != "active":
        raise errors.device_not_confirmed()
    try:
        store.use_device_nonce(device_id, nonce, n + 2 * get_settings().device_signature_skew_seconds, n)
    except store.ConditionFailed:
        raise errors.invalid_signature("This request was already received (its nonce is used).") from None
    return device
