"""Secrets at rest and token hashing.

Method secrets are encrypted with KMS directly (they are a few bytes, well under KMS's
4 KiB limit), bound by an encryption context to the account and method they belong to, so a
ciphertext copied onto another item does not decrypt. Tokens are random and stored only as
SHA-256 hashes: they carry 256 bits, so a keyed or slow hash adds nothing.
"""
import hashlib

from chalicelib import aws
from chalicelib.config import get_settings


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def encrypt_secret(plaintext: bytes, context: dict[str, str]) -> bytes:
    response = aws.client("kms").encrypt(
        KeyId=get_settings().kms_key_id, Plaintext=plaintext, EncryptionContext=context
    )
    return response["CiphertextBlob"]


def decrypt_secret(ciphertext: bytes, context: dict[str, str]) -> bytes:
    response = aws.client("kms").decrypt(
        CiphertextBlob=ciphertext, EncryptionContext=context, KeyId=get_settings().kms_key_id
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
