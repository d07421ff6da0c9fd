"""A software WebAuthn authenticator built from `fido2`'s data structures: it answers the
service's creation and request options with real attestation objects, authenticator data
and ES256 signatures, as a browser would hand them over (PublicKeyCredential.toJSON()).

Its knobs make the responses wrong in the ways an attacker or a broken client would: another
origin or RP ID, no user verification, a signature counter that goes backwards, a platform
authenticator where a roaming one is asked for.
"""
import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode
from fido2.webauthn import (
    AttestationObject, AttestedCredentialData, AuthenticationResponse, AuthenticatorAssertionResponse,
    AuthenticatorAttachment, AuthenticatorAttestationResponse, AuthenticatorData, CollectedClientData,
    RegistrationResponse)

ORIGIN = "http://localhost:8000"
RP_ID = "localhost"
FLAG = AuthenticatorData.FLAG


@dataclass
class StoredCredential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    counter: int


class SoftAuthenticator:
    def __init__(self, attachment: str = "cross-platform", user_verification: bool = False,
                 counting: bool = True, backup_eligible: bool = False):
        self.attachment = AuthenticatorAttachment(attachment)
        self.user_verification = user_verification
        self.counting = counting            # False: always reports 0, as synced passkeys do
        self.backup_eligible = backup_eligible
        self.credentials: dict[bytes, StoredCredential] = {}

    @property
    def transports(self) -> list[str]:
        return ["internal"] if self.attachment == AuthenticatorAttachment.PLATFORM else ["usb"]

    def _flags(self, uv: bool | None) -> FLAG:
        flags = FLAG.UP
        if self.user_verification if uv is None else uv:
            flags |= FLAG.UV
        if self.backup_eligible:
            flags |= FLAG.BE | FLAG.BS
        return flags

    def create(self, options: dict, *, origin: str = ORIGIN, rp_id: str | None = None, uv: bool | None = None,
               challenge: bytes | None = None) -> dict:
        """navigator.credentials.create(): a new ES256 credential, "none" attestation."""
        rp_id = rp_id or options["rp"]["id"]
        excluded = {websafe_decode(c["id"]) for c in options.get("excludeCredentials", [])}
        if excluded & set(self.credentials):
            raise PermissionError("InvalidStateError: this authenticator is already registered")
        key = ec.generate_private_key(ec.SECP256R1())
        credential_id = os.urandom(32)
        self.credentials[credential_id] = StoredCredential(credential_id, key, rp_id,
                                                           websafe_decode(options["user"]["id"]), 0)
        auth_data = AuthenticatorData.create(
            hashlib.sha256(rp_id.encode()).digest(), self._flags(uv) | FLAG.AT, 0,
            AttestedCredentialData.create(bytes(16), credential_id, ES256.from_cryptography_key(key.public_key())))
        client_data = CollectedClientData.create(
            "webauthn.create", challenge if challenge is not None else websafe_decode(options["challenge"]), origin)
        response = dict(RegistrationResponse(
            raw_id=credential_id,
            response=AuthenticatorAttestationResponse(
                client_data=client_data, attestation_object=AttestationObject.create("none", auth_data, {})),
            authenticator_attachment=self.attachment,
        ))
        response["response"]["transports"] = self.transports
        return response

    def get(self, options: dict, *, origin: str = ORIGIN, rp_id: str | None = None, uv: bool | None = None,
            challenge: bytes | None = None, counter: int | None = None,
            credential_id: bytes | None = None) -> dict:
        """navigator.credentials.get(): an assertion with the first allowed credential held."""
        allowed = [websafe_decode(c["id"]) for c in options.get("allowCredentials", [])]
        if credential_id is None:
            credential_id = next((c for c in allowed if c in self.credentials), None)
            if credential_id is None:
                raise LookupError("NotAllowedError: no credential of this authenticator is allowed")
        stored = self.credentials[credential_id]
        if counter is not None:
            stored.counter = counter
        elif self.counting:
            stored.counter += 1
        auth_data = AuthenticatorData.create(
            hashlib.sha256((rp_id or options.get("rpId") or stored.rp_id).encode()).digest(),
            self._flags(uv), stored.counter if self.counting or counter is not None else 0)
        client_data = CollectedClientData.create(
            "webauthn.get", challenge if challenge is not None else websafe_decode(options["challenge"]), origin)
        signature = stored.private_key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))
        return dict(AuthenticationResponse(
            raw_id=credential_id,
            response=AuthenticatorAssertionResponse(client_data=client_data, authenticator_data=auth_data,
                                                    signature=signature, user_handle=stored.user_handle),
            authenticator_attachment=self.attachment,
        ))
