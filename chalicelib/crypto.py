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
