"""Secrets at rest and token hashing.

Secrets are sealed with AES-256-GCM under a data key (the envelope; ledger/secrets.py keeps
the data keys), with the encryption context that names what the secret belongs to as
associated data, so a ciphertext copied onto another item does not decrypt. Data keys are
made and unwrapped by KMS under the stage's key. Secrets from before the envelope are KMS
ciphertexts of their own, under the same encryption context: they still decrypt.

Tokens are random and stored only as SHA-256 hashes: they carry 256 bits, so a keyed or
slow hash adds nothing.
"""
import hashlib
import json

from chalicelib import aws
from chalicelib.clock import random_bytes
from chalicelib.config import get_settings

# A sealed secret: marker and version, the data key's id (length-prefixed), a 96-bit nonce,
# then AES-GCM's ciphertext and tag. A KMS ciphertext never starts with 0x00: KMS's begin
# with their version byte 0x01, moto's with its key id (ASCII).
SEALED_V1 = b"\x00\x01"
NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """A sealed secret that does not open: damaged, or moved to another item (its context)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aad(header: bytes, context: dict[str, str]) -> bytes:
    """What the tag authenticates besides the ciphertext: the header and the canonical
    encoding of the encryption context (the same pairs KMS bound legacy ciphertexts to)."""
    return header + json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


def sealed_key_id(ciphertext: bytes) -> str | None:
    """The id of the data key a sealed secret is under; None for a legacy KMS ciphertext."""
    if not ciphertext.startswith(SEALED_V1):
        return None
    length = ciphertext[len(SEALED_V1)] if len(ciphertext) > len(SEALED_V1) else 0
    start = len(SEALED_V1) + 1
    return ciphertext[start:start + length].decode("ascii", errors="replace")


def seal(data_key: bytes, key_id: str, plaintext: bytes, context: dict[str, str]) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header = SEALED_V1 + bytes([len(key_id)]) + key_id.encode("ascii")
    nonce = random_bytes(NONCE_BYTES)
    return header + nonce + AESGCM(data_key).encrypt(nonce, plaintext, _aad(header, context))


def open_sealed(data_key: bytes, ciphertext: bytes, context: dict[str, str]) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        header_length = len(SEALED_V1) + 1 + ciphertext[len(SEALED_V1)]
        header, nonce = ciphertext[:header_length], ciphertext[header_length:header_length + NONCE_BYTES]
        return AESGCM(data_key).decrypt(nonce, ciphertext[header_length + NONCE_BYTES:], _aad(header, context))
    except (InvalidTag, ValueError, IndexError):
        raise SecretUnreadable("the secret does not open under this context") from None


def decrypt_with_kms(ciphertext: bytes, context: dict[str, str]) -> bytes:
    """A legacy secret, encrypted by KMS itself under `context`."""
    from botocore.exceptions import ClientError

    try:
        response = aws.client("kms").decrypt(
            CiphertextBlob=ciphertext, EncryptionContext=context, KeyId=get_settings().kms_key_id
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidCiphertextException":
            raise
        raise SecretUnreadable("the KMS ciphertext does not open under this context") from None
    return response["Plaintext"]


def _data_key_context(key_id: str) -> dict[str, str]:
    return {"purpose": "data_key", "data_key_id": key_id}


def new_data_key(key_id: str) -> tuple[bytes, bytes]:
    """A new AES-256 data key from KMS: (plaintext, wrapped under the stage's KMS key)."""
    response = aws.client("kms").generate_data_key(
        KeyId=get_settings().kms_key_id, KeySpec="AES_256", EncryptionContext=_data_key_context(key_id)
    )
    return response["Plaintext"], response["CiphertextBlob"]


def unwrap_data_key(wrapped: bytes, key_id: str) -> bytes:
    response = aws.client("kms").decrypt(
        CiphertextBlob=wrapped, EncryptionContext=_data_key_context(key_id), KeyId=get_settings().kms_key_id
    )
    return response["Plaintext"]


class InvalidPublicKey(ValueError):
    """Not a P-256 public key in a form we read."""


def p256_public_key_spki(public_key) -> bytes:
    """P-256 public key from a JWK (kty EC, crv P-256) or SPKI (base64 DER or PEM): DER SPKI."""
    import base64

    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    invalid = InvalidPublicKey()
    try:
        if isinstance(public_key, dict):
            if public_key.get("kty") != "EC" or public_key.get("crv") != "P-256" or "d" in public_key:
                raise invalid
            decode = lambda v: base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))  # noqa: E731
            x, y = decode(public_key["x"]), decode(public_key["y"])
            if len(x) != 32 or len(y) != 32:
                raise invalid
            key = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                                ec.SECP256R1()).public_key()
        elif isinstance(public_key, str) and "BEGIN PUBLIC KEY" in public_key:
            key = serialization.load_pem_public_key(public_key.encode())
        elif isinstance(public_key, str):
            key = serialization.load_der_public_key(base64.b64decode(public_key.strip(), validate=True))
        else:
            raise invalid
    except InvalidPublicKey:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, UnsupportedAlgorithm):
        raise invalid from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise invalid
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
