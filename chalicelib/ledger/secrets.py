"""Secrets at rest (method secrets, SSO client secrets) in envelopes: sealed with AES-GCM
(crypto.seal) under a data key, bound by their encryption context to what they belong to.

Data keys come from KMS (GenerateDataKey) and are stored wrapped by the stage's KMS key
(store/data_keys.py); the first secret a stage seals makes the first one. A container unwraps
each data key it needs once (one DynamoDB read, one KMS Decrypt) and keeps it in memory for
its life, so a warm container reads and writes secrets without calling KMS. New secrets use
the current data key, whose pointer a container reads again once it is CURRENT_MAX_AGE old:
after a rotation every container seals with the new key within that time, and every older
key still opens what it sealed.

Secrets from before the envelope are KMS ciphertexts: they still decrypt (one KMS call), and
a method's is sealed again when it is read (`open_method_secret`); `python -m ops.keys
reencrypt` does the rest.

A secret that cannot be opened (or sealed) is SecretUnavailable, logged and counted here
(metric SecretsUnavailable), never with the secret: it is the stage's data that is wrong, not
the person's proof, so the API answers 503 `secret_unavailable` and a try it ended is given
back (services/verification.unchecked). KMS failing is an outage (aws.is_outage); KMS refusing
the stage's key (disabled, pending deletion, access denied) is SecretUnavailable, until an
operator acts (docs/runbook.md, *Secrets that do not open*).
"""
import logging

from chalicelib import aws, crypto, observability, store
from chalicelib.clock import now, now_s, random_id

log = logging.getLogger(__name__)

# How long a container seals with the data key it last read as current (seconds).
CURRENT_MAX_AGE = 300

# Plaintext data keys by id, for the container's life. Never logged.
_unwrapped: dict[str, bytes] = {}
# (id of the current data key, when this container read it).
_current: tuple[str, float] | None = None

# Why a secret is unavailable (the metric's Reason dimension).
DOES_NOT_OPEN = "does_not_open"        # damaged, or moved onto another item (its context)
DATA_KEY_MISSING = "data_key_missing"  # it names a data key the stage does not have
KMS_REFUSED = "kms_refused"            # KMS will not unwrap (or make) a data key, or open a legacy one
# What KMS answers when it will not use the key for us: this lasts until an operator acts.
_KMS_REFUSALS = {"DisabledException", "KMSInvalidStateException", "NotFoundException", "AccessDeniedException",
                 "InvalidCiphertextException", "IncorrectKeyException", "InvalidKeyUsageException"}


class SecretUnavailable(crypto.SecretUnreadable):
    """A secret that cannot be opened or sealed now, for one of the reasons above. Not an
    outage (trying again does not help until an operator acts), and not the person's doing."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def forget_keys() -> None:
    """As a new container: no data key in memory (tests; an operator's command after a rotation)."""
    global _current
    _unwrapped.clear()
    _current = None


def method_context(account_id: str, method_id: str, purpose: str) -> dict[str, str]:
    """A method secret's encryption context: its account, its method, and what it is."""
    return {"account_id": account_id, "method_id": method_id, "purpose": purpose}


def seal(plaintext: bytes, context: dict[str, str]) -> bytes:
    try:
        key_id, data_key = _current_key()
    except SecretUnavailable as unavailable:
        raise _reported(unavailable, context, "the current one") from None
    return crypto.seal(data_key, key_id, plaintext, context)


def open_secret(ciphertext: bytes, context: dict[str, str]) -> bytes:
    """The plaintext of a sealed secret, or of a legacy KMS ciphertext; SecretUnavailable when
    it does not open (one that does not belong to `context` among them)."""
    key_id = crypto.sealed_key_id(ciphertext)
    try:
        if key_id is None:
            return _kms(crypto.decrypt_with_kms, ciphertext, context)
        return crypto.open_sealed(_data_key(key_id), ciphertext, context)
    except crypto.SecretUnreadable as unreadable:
        raise _reported(unreadable, context, key_id) from None


def _reported(unreadable: crypto.SecretUnreadable, context: dict[str, str], key_id: str | None) -> SecretUnavailable:
    """Logged loudly, for the alarm on SecretsUnavailable: what the secret belongs to (the
    account as observability's hash) and its data key, never the secret."""
    unavailable = unreadable if isinstance(unreadable, SecretUnavailable) else SecretUnavailable(
        DOES_NOT_OPEN, str(unreadable))
    belongs_to = " ".join(f"account={observability.account_hash(value)}" if name == "account_id" else f"{name}={value}"
                          for name, value in sorted(context.items()))
    log.error("secret unavailable (%s): %s; %s, data key %s", unavailable.reason, unavailable, belongs_to,
              key_id or "none (a legacy KMS ciphertext)")
    observability.metric("SecretsUnavailable", Reason=unavailable.reason)
    return unavailable


def _kms(call, *args):
    """A KMS call whose refusal of the stage's key is SecretUnavailable (an outage stays one)."""
    from botocore.exceptions import ClientError

    try:
        return call(*args)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code not in _KMS_REFUSALS or aws.is_outage(error):
            raise
        raise SecretUnavailable(KMS_REFUSED, f"KMS refused the stage's key: {code}") from None


def open_method_secret(account_id: str, method: dict, attribute: str, purpose: str) -> bytes:
    """A method's secret. A legacy KMS ciphertext is sealed again on the way, so that the
    method's next use makes no KMS call."""
    ciphertext = method[attribute]
    context = method_context(account_id, method["method_id"], purpose)
    plaintext = open_secret(ciphertext, context)
    if crypto.sealed_key_id(ciphertext) is None:
        _seal_again(account_id, method["method_id"], attribute, ciphertext, plaintext, context)
    return plaintext


def _seal_again(account_id: str, method_id: str, attribute: str, old: bytes, plaintext: bytes,
                context: dict[str, str]) -> None:
    """Best effort: the write is conditional on the ciphertext read (a method changed or
    removed meanwhile keeps its change), and an outage (or a current data key that does not
    unwrap, reported by seal) only leaves it for ops.keys reencrypt."""
    try:
        store.replace_method_secret(account_id, method_id, attribute, old, seal(plaintext, context))
    except Exception as error:
        if not (aws.is_outage(error) or isinstance(error, store.Busy | SecretUnavailable)):
            raise
        log.warning("a legacy secret stays as it is for now: %r", error)


def current_key_id() -> str:
    """The current data key's id, read afresh (made if the stage has none yet)."""
    global _current
    _current = None
    return _current_key()[0]


def rotate() -> str:
    """A new data key, made current (store.ConditionFailed when another rotation won); its id."""
    global _current
    old = store.get_current_data_key()
    key, plaintext = _new_key()
    if old is None:
        store.create_first_data_key(key)
    else:
        store.make_data_key_current(key, replaces=old["key_id"])
    _unwrapped[key["key_id"]] = plaintext
    _current = (key["key_id"], now())
    return key["key_id"]


def unwrap(item: dict) -> None:
    """A stored data key unwrapped (and kept), for operators checking it: SecretUnavailable
    when KMS refuses it."""
    _remember(item)


def _current_key() -> tuple[str, bytes]:
    global _current
    if _current is not None and now() - _current[1] < CURRENT_MAX_AGE and _current[0] in _unwrapped:
        return _current[0], _unwrapped[_current[0]]
    item = store.get_current_data_key() or _first_key()
    data_key = _remember(item)
    _current = (item["key_id"], now())
    return item["key_id"], data_key


def _first_key() -> dict:
    key, plaintext = _new_key()
    try:
        store.create_first_data_key(key)
    except store.ConditionFailed:
        # Another container made the first key meanwhile: everyone seals with that one.
        return store.get_current_data_key()
    _unwrapped[key["key_id"]] = plaintext
    return key


def _new_key() -> tuple[dict, bytes]:
    """A data key from KMS: its item (wrapped) and its plaintext."""
    key_id = random_id()
    plaintext, wrapped = _kms(crypto.new_data_key, key_id)
    return {"key_id": key_id, "wrapped_key": wrapped, "created_at": now_s()}, plaintext


def _data_key(key_id: str) -> bytes:
    if key_id in _unwrapped:
        return _unwrapped[key_id]
    item = store.get_data_key(key_id)
    if item is None:
        raise SecretUnavailable(DATA_KEY_MISSING, "the secret names a data key this stage does not have")
    return _remember(item)


def _remember(item: dict) -> bytes:
    key_id = item["key_id"]
    if key_id not in _unwrapped:
        _unwrapped[key_id] = _kms(crypto.unwrap_data_key, item["wrapped_key"], key_id)
    return _unwrapped[key_id]
