"""Security keys and built-in authenticators: WebAuthn credentials, checked with py_webauthn.

Two method types with their own rules:
- `security_key`: a roaming (cross-platform) authenticator such as a YubiKey or Titan Key;
  user verification is preferred, not required (many keys have no PIN).
- `built_in`: the platform authenticator (Touch ID, Windows Hello); user verification is
  required, at registration and at every use.

Every challenge is 32 random bytes, single-use and short-lived. A registration challenge
starts with the pending method's id, so the response alone names the enrolment it answers
(and only within the account whose session completes it). Login and step-up challenges are
kept on the login attempt or the session and taken by the write that counts the try.
Nothing here is secret at rest: a credential's public key cannot log anyone in.
"""
import json
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib import errors, store
from chalicelib.clock import now_s, random_bytes
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.methods.base import Enrollment, Reservation, Suspicious, VerificationMethod, Verified
from chalicelib.records import EnrollmentRequest, Id, MethodStatus, Proof

CHALLENGE_BYTES = 32
CHALLENGE_SECONDS = 300
METHOD_ID_BYTES = 16
MAX_CREDENTIAL_ID_BYTES = 1023   # WebAuthn's own bound
TRANSPORTS = {"ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"}


def b64(data: bytes) -> str:
    from webauthn.helpers import bytes_to_base64url

    return bytes_to_base64url(data)


def unb64(text) -> bytes | None:
    """base64url (padding optional) to bytes; None when it is not base64url."""
    import base64
    import binascii

    if not isinstance(text, str) or not text or len(text) > 4096:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def new_challenge() -> tuple[str, int]:
    """A login or step-up challenge and its expiry."""
    return b64(random_bytes(CHALLENGE_BYTES)), now_s() + CHALLENGE_SECONDS


def credential_id(credential) -> bytes | None:
    """The raw id a WebAuthn response names, or None when it is malformed."""
    if not isinstance(credential, dict):
        return None
    raw = unb64(credential.get("rawId"))
    if raw is None or not 1 <= len(raw) <= MAX_CREDENTIAL_ID_BYTES or unb64(credential.get("id")) != raw:
        return None
    return raw


def enrollment_method_id(credential) -> str | None:
    """The pending method a registration response answers, read from the challenge in its
    client data (the signature and everything else are checked on completion)."""
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        return None
    client_data = unb64(credential["response"].get("clientDataJSON"))
    try:
        challenge = unb64(json.loads(client_data).get("challenge")) if client_data else None
    except (ValueError, AttributeError, RecursionError):
        return None
    if challenge is None or len(challenge) != METHOD_ID_BYTES + CHALLENGE_BYTES:
        return None
    return challenge[:METHOD_ID_BYTES].hex()


Credential = Annotated[dict[str, Any], Field(
    description="a WebAuthn PublicKeyCredential as JSON (PublicKeyCredential.toJSON(): id, rawId, type, "
                "response with base64url fields, authenticatorAttachment, clientExtensionResults)")]


class AssertionProof(Proof):
    """A WebAuthn assertion (`credential`): it names its method through its credential."""
    method_id: Id | None = None
    credential: Credential


# Where a login or step-up challenge waits on the login attempt or session, with the
# credentials offered with it; the try's own write takes them (the challenge first: that
# write holds only while it is the one the try read, Reservation).
CHALLENGE_STATE = ("challenge", "challenge_expires_at", "offered")


def unknown_credential() -> ApiError:
    return ApiError(401, "unknown_credential",
                    "This security key or built-in authenticator is not registered on this account.")


def flagged() -> ApiError:
    return ApiError(401, "credential_suspicious", "This authenticator was flagged as possibly copied and can no "
                                                  "longer be used. Log in with another method and remove it.")


def wrong_authenticator(message: str) -> ApiError:
    return ApiError(400, "wrong_authenticator", message)


def no_webauthn_methods() -> ApiError:
    return ApiError(409, "no_webauthn_methods", "This account has no security key or built-in authenticator.")


def _origins() -> list[str]:
    return list(get_settings().allowed_origins)


def _active_credentials(account_id: str) -> list[dict]:
    return [m for m in store.list_methods(account_id, now_s())
            if m["type"] in WEBAUTHN_TYPES and m["status"] == MethodStatus.ACTIVE]


def _descriptor(method: dict):
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    return PublicKeyCredentialDescriptor(id=unb64(method["credential_id"]),
                                         transports=[AuthenticatorTransport(t) for t in method.get("transports", [])])


def request_options(account_id: str, challenge: str) -> tuple[dict, dict[str, str]]:
    """Request options for navigator.credentials.get() listing the account's credentials,
    and the offer to keep with the challenge: credential id -> method id. An assertion is
    only accepted from a credential that was offered, so the verify step needs no lookup."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    credentials = _active_credentials(account_id)
    if not credentials:
        raise no_webauthn_methods()
    only_built_in = all(m["type"] == BuiltInMethod.type for m in credentials)
    options = generate_authentication_options(
        rp_id=get_settings().rp_id,
        challenge=unb64(challenge),
        timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=[_descriptor(m) for m in credentials],
        user_verification=(UserVerificationRequirement.REQUIRED if only_built_in
                           else UserVerificationRequirement.PREFERRED),
    )
    return json.loads(options_to_json(options)), {m["credential_id"]: m["method_id"] for m in credentials}


def offered_method_id(offered: dict | None, credential) -> str:
    """The method whose credential answered, if it was offered with the challenge; 401 for
    a credential that is unknown or registered on another account (the same answer, so it
    reveals nothing)."""
    if not offered:   # no challenge outstanding: it was used, or never asked for
        raise errors.challenge_expired()
    raw = credential_id(credential)
    method_id = offered.get(b64(raw)) if raw else None
    if method_id is None:
        raise unknown_credential()
    return method_id


class WebAuthnEnrollmentRequest(EnrollmentRequest):
    """Creation options for navigator.credentials.create(); then POST /v1/account/methods/webauthn."""
    type: Literal["security_key", "built_in"]


class WebAuthnMethod(VerificationMethod):
    enrollment_model = WebAuthnEnrollmentRequest
    attachment: str = ""
    user_verification: str = ""
    require_user_verification: bool = False
    hint: str = ""
    resident_key: str = ""
    enrollment_seconds = CHALLENGE_SECONDS
    enrollment_only = ("challenge",)
    refusal = enrollment_refusal = (
        "webauthn_failed", "The authenticator's response was not accepted. Try again, with the security key or "
                           "built-in authenticator registered on this account.")
    enrollment_conflict = ("credential_already_registered",
                           "This authenticator is already registered, on this or another account.")
    wrong_attachment_message = ""
    proof_model = AssertionProof

    def begin_challenge(self, owner, method_id, client):
        """Request options for all the account's WebAuthn credentials (any of them answers),
        with a new challenge kept on the owner (it replaces an earlier one)."""
        challenge, expires_at = new_challenge()
        options, offered = request_options(owner.account_id, challenge)
        try:
            store.set_on_owner(owner.kind, owner.id, now_s(), {"challenge": challenge, "challenge_expires_at": expires_at,
                                                               "offered": offered})
        except store.ConditionFailed:
            raise errors.owner_gone(owner.kind) from None
        return {"type": "webauthn", "public_key": options, "expires_at": expires_at}

    def reservation(self, proof):
        return Reservation(takes=CHALLENGE_STATE)

    def locate(self, slot, proof):
        """The method whose credential answered, and the challenge the try's write takes
        from the login attempt or session (as read: the write holds only while it is)."""
        method_id = offered_method_id(slot.get("offered"), proof.credential)
        return method_id, {"credential": proof.credential, "challenge": slot.get("challenge"),
                           "challenge_expires_at": slot.get("challenge_expires_at")}

    def begin_enrollment(self, account, method_id, label):
        from webauthn import generate_registration_options, options_to_json
        from webauthn.helpers.structs import (
            AttestationConveyancePreference,
            AuthenticatorAttachment,
            AuthenticatorSelectionCriteria,
            PublicKeyCredentialHint,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        settings = get_settings()
        challenge = bytes.fromhex(method_id) + random_bytes(CHALLENGE_BYTES)
        options = generate_registration_options(
            rp_id=settings.rp_id,
            rp_name=settings.rp_name,
            user_name=account["email"],
            user_id=bytes.fromhex(account["account_id"]),   # random, never the email
            user_display_name=account["email"],
            challenge=challenge,
            timeout=CHALLENGE_SECONDS * 1000,
            # No attestation: models are not restricted, and "none" reveals nothing about the device.
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                authenticator_attachment=AuthenticatorAttachment(self.attachment),
                resident_key=ResidentKeyRequirement(self.resident_key),
                user_verification=UserVerificationRequirement(self.user_verification),
            ),
            exclude_credentials=[_descriptor(m) for m in _active_credentials(account["account_id"])],
            hints=[PublicKeyCredentialHint(self.hint)],
        )
        return Enrollment(record={"challenge": b64(challenge)},
                          response={"public_key": json.loads(options_to_json(options))})

    def complete_enrollment(self, account, method, proof, now):
        from webauthn import verify_registration_response

        credential = proof.get("credential")
        if not isinstance(credential, dict):
            return None
        attachment = credential.get("authenticatorAttachment")
        if attachment is not None and attachment != self.attachment:
            raise wrong_authenticator(self.wrong_attachment_message)
        try:
            registered = verify_registration_response(
                credential=credential,
                expected_challenge=unb64(method["challenge"]),
                expected_rp_id=get_settings().rp_id,
                expected_origin=_origins(),
                require_user_verification=self.require_user_verification,
            )
        except Exception:   # any malformed or unverifiable response is a refusal, never a 500
            return None
        response = credential.get("response") or {}
        transports = response.get("transports") if isinstance(response.get("transports"), list) else []
        return Verified(
            updates={
                "credential_id": b64(registered.credential_id),
                "public_key": b64(registered.credential_public_key),
                "sign_count": registered.sign_count,
                "transports": sorted({t for t in transports if isinstance(t, str) and t in TRANSPORTS}),
                "aaguid": registered.aaguid,
                "backup_eligible": registered.credential_device_type == "multi_device",
                "backed_up": registered.credential_backed_up,
                "user_verified": registered.user_verified,
            },
            ops=[store.op_put_credential(registered.credential_id, account["account_id"], method["method_id"])],
        )

    def verify(self, account, method, proof, now):
        from webauthn import verify_authentication_response

        credential = proof.get("credential")
        if method.get("suspicious_at"):
            raise flagged()
        challenge = unb64(proof.get("challenge"))
        if challenge is None or (proof.get("challenge_expires_at") or 0) <= now:
            raise errors.challenge_expired()
        if credential_id(credential) != unb64(method["credential_id"]):
            return None
        try:
            checked = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=get_settings().rp_id,
                expected_origin=_origins(),
                credential_public_key=unb64(method["public_key"]),
                # 0 turns off the library's own count check: ours below lets synced passkeys
                # (which always report 0) through, as WebAuthn intends.
                credential_current_sign_count=0,
                require_user_verification=self.require_user_verification,
            )
        except Exception:   # a malformed or unverifiable assertion is a refusal, never a 500
            return None
        stored, received = method.get("sign_count", 0), checked.new_sign_count
        if stored > 0 and received > 0 and received <= stored:
            raise Suspicious(
                "credential_suspicious",
                "This authenticator's signature counter went backwards, a sign that it was copied. It is "
                "blocked: log in with another method and remove it.",
                updates={"suspicious_at": int(now), "suspicious_reason": "sign_count_regression"},
                notice=("webauthn_suspicious", {"label": method["label"], "method_type": self.display_name,
                                                "stored": stored, "received": received}),
            )
        return Verified(counter="sign_count" if received > 0 else None, counter_value=received,
                        updates={"backed_up": checked.credential_backed_up},
                        details={"user_verified": checked.user_verified})

    def removal_ops(self, account_id, method):
        credential = unb64(method.get("credential_id"))
        return [store.op_delete_credential(credential, account_id)] if credential else []

    def public_view(self, method):
        return {
            "transports": method.get("transports", []),
            "aaguid": method.get("aaguid"),
            "backup_eligible": method.get("backup_eligible", False),
            "backed_up": method.get("backed_up", False),
            "suspicious": bool(method.get("suspicious_at")),
        }


class SecurityKeyMethod(WebAuthnMethod):
    type = "security_key"
    default_label = "Security key"
    display_name = "security key"
    attachment = "cross-platform"
    user_verification = "preferred"
    require_user_verification = False
    resident_key = "discouraged"
    hint = "security-key"
    wrong_attachment_message = ("That was a built-in authenticator of this device, not a security key: add it as a "
                                "built-in authenticator instead.")


class BuiltInMethod(WebAuthnMethod):
    type = "built_in"
    default_label = "Built-in authenticator"
    display_name = "built-in authenticator"
    attachment = "platform"
    user_verification = "required"
    require_user_verification = True
    resident_key = "preferred"
    hint = "client-device"
    wrong_attachment_message = ("That was a security key, not this device's built-in authenticator: add it as a "
                                "security key instead.")


WEBAUTHN_TYPES = {SecurityKeyMethod.type, BuiltInMethod.type}
