"""Password policy and argon2id hashing (argon2 and zxcvbn are imported where used)."""
from functools import lru_cache

from chalicelib.config import get_settings

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn analyses at most 72 characters; its score 0-2 means the password is in its lists
# of common passwords, names and words, or is a simple pattern of them.
_ZXCVBN_MAX = 72
_MIN_SCORE = 3


class PasswordRejected(ValueError):
    """The password policy refused a new password: `reason` is too_short, too_long or too_common."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRejected("too_short")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected("too_long")
    from zxcvbn import zxcvbn

    if zxcvbn(password[:_ZXCVBN_MAX])["score"] < _MIN_SCORE:
        raise PasswordRejected("too_common")


@lru_cache(maxsize=4)
def _hasher(memory_kib: int, time_cost: int, parallelism: int):
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)


def _current_hasher():
    s = get_settings()
    return _hasher(s.argon2_memory_kib, s.argon2_time_cost, s.argon2_parallelism)


def hash_password(password: str) -> str:
    return _current_hasher().hash(password)


@lru_cache(maxsize=4)
def _dummy_hash(memory_kib: int, time_cost: int, parallelism: int) -> str:
    return _hasher(memory_kib, time_cost, parallelism).hash("not a real password, used for timing only")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists: without a hash, the password is
    checked, along the same lines, against a dummy one made by the same hasher (the current
    parameters and encoding), and is never right."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _current_hasher()
    s = get_settings()
    dummy = _dummy_hash(s.argon2_memory_kib, s.argon2_time_cost, s.argon2_parallelism)
    try:
        return hasher.verify(dummy if password_hash is None else password_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _current_hasher().check_needs_rehash(password_hash)
