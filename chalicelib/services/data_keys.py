"""The data keys that seal secrets at rest, for operators (`python -m ops.keys`): which key
seals how many secrets, a rotation, and sealing every secret again under the current key.

A rotation makes a new data key current; containers seal with it within
secrets.CURRENT_MAX_AGE, and secrets sealed under older keys keep opening. `reencrypt` then
seals every secret that is not under the current key (legacy KMS ciphertexts included) again,
each with a write conditional on the ciphertext it read: a method or connection changed
meanwhile keeps its change. It is safe to run again, and does nothing the second time.
A secret that does not open is named with why and left as it is; `status` says which data
keys KMS refuses to unwrap and which ones secrets name but the stage lacks.
"""
import functools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chalicelib import crypto, methods, store
from chalicelib.ledger import secrets
from chalicelib.services.sso import connections

LEGACY = "legacy"


class RotationRaced(Exception):
    """Another rotation made a different data key current at the same moment."""


class SecretsUnreadable(Exception):
    """Secrets that open under no key: damaged, moved onto another item, or under a data key
    that is missing or that KMS refuses to unwrap; or the current data key itself refused."""


@dataclass(frozen=True)
class SealedSecret:
    where: str
    ciphertext: bytes
    context: dict[str, str]
    # (old ciphertext, new one) -> whether it was written (the secret was still the old one).
    replace: Callable[[bytes, bytes], bool]


def every_secret() -> Iterator[SealedSecret]:
    """Every secret at rest: each method's (a whole-table scan), each SSO client secret."""
    sealing = {impl.sealed_attribute: impl for impl in methods.REGISTRY.values() if impl.sealed_attribute}
    for account_id, method in store.scan_methods_with(tuple(sealing)):
        impl = methods.REGISTRY.get(method.get("type"))
        if impl is None or impl.sealed_attribute not in method:
            continue
        method_id = method["method_id"]
        yield SealedSecret(f"method {method_id} of account {account_id}", method[impl.sealed_attribute],
                           secrets.method_context(account_id, method_id, impl.type),
                           functools.partial(store.replace_method_secret, account_id, method_id, impl.sealed_attribute))
    for connection in store.list_connections():
        connection_id = connection["connection_id"]
        if "client_secret" in connection:
            yield SealedSecret(f"SSO connection {connection_id}", connection["client_secret"],
                               connections.secret_context(connection_id),
                               functools.partial(store.replace_connection_secret, connection_id))


def status() -> dict:
    """The current data key, every data key with how many secrets it seals and whether KMS
    unwraps it (`refused`: KMS's refusal, else None; one KMS call per key), the data keys
    secrets name that the stage lacks (`missing`: their secrets do not open), and how many
    secrets are still legacy KMS ciphertexts."""
    current = store.get_current_data_key()
    counts = Counter(crypto.sealed_key_id(s.ciphertext) or LEGACY for s in every_secret())
    stored = sorted(store.list_data_keys(), key=lambda k: k["created_at"])
    keys = [{"key_id": k["key_id"], "created_at": k["created_at"], "secrets": counts.get(k["key_id"], 0),
             "current": current is not None and k["key_id"] == current["key_id"], "refused": _refusal(k)}
            for k in stored]
    missing = [{"key_id": key_id, "secrets": n} for key_id, n in sorted(counts.items())
               if key_id != LEGACY and key_id not in {k["key_id"] for k in stored}]
    return {"current": current and current["key_id"], "keys": keys, "missing": missing,
            "legacy": counts.get(LEGACY, 0)}


def _refusal(key: dict) -> str | None:
    try:
        secrets.unwrap(key)
    except secrets.SecretUnavailable as refused:
        return str(refused)
    return None


def rotate() -> str:
    try:
        return secrets.rotate()
    except store.ConditionFailed:
        raise RotationRaced("another rotation made a new data key current at the same time: "
                            "see `status`, and rotate again only if you need yet another key") from None
    except secrets.SecretUnavailable as refused:
        raise SecretsUnreadable(f"no new data key: {refused} (see `status` and docs/runbook.md)") from None


@dataclass
class Reencryption:
    sealed_again: int = 0
    already_current: int = 0
    changed_meanwhile: int = 0
    unreadable: tuple[str, ...] = ()


def reencrypt() -> Reencryption:
    """Every secret not sealed under the current data key sealed again under it."""
    try:
        current = secrets.current_key_id()
    except secrets.SecretUnavailable as refused:
        raise SecretsUnreadable(f"nothing sealed again: the current data key does not unwrap: {refused} "
                                "(see `status` and docs/runbook.md)") from None
    done = Reencryption()
    for secret in every_secret():
        key_id = crypto.sealed_key_id(secret.ciphertext)
        if key_id == current:
            done.already_current += 1
            continue
        try:
            plaintext = secrets.open_secret(secret.ciphertext, secret.context)
        except secrets.SecretUnavailable as unavailable:
            under = f"data key {key_id}" if key_id else "a legacy KMS ciphertext"
            done.unreadable += (f"{secret.where} ({unavailable.reason}: {unavailable}; {under})",)
            continue
        if secret.replace(secret.ciphertext, secrets.seal(plaintext, secret.context)):
            done.sealed_again += 1
        else:
            done.changed_meanwhile += 1
    return done
