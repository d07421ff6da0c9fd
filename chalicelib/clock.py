"""Time and randomness in one place, so tests can move the clock."""
import secrets
import time


class SystemClock:
    def now(self) -> float:
        return time.time()


_clock = SystemClock()


def now() -> float:
    return _clock.now()


def now_s() -> int:
    return int(_clock.now())


def use_clock(clock) -> None:
    """Replace the clock (tests); pass None to go back to the system clock."""
    global _clock
    _clock = clock if clock is not None else SystemClock()


def random_token(nbytes: int = 32) -> str:
    """URL-safe random token; 32 bytes gives 256 bits."""
    return secrets.token_urlsafe(nbytes)


def random_id() -> str:
    """Public identifier: 128 random bits, hex."""
    return secrets.token_hex(16)


def is_id(value: str) -> bool:
    """Whether `value` has the shape of a random_id(); anything else cannot name an item."""
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def random_bytes(nbytes: int) -> bytes:
    return secrets.token_bytes(nbytes)


def random_string(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def random_below(limit: int) -> int:
    """A uniform random integer in [0, limit)."""
    return secrets.randbelow(limit)


def random_choice(items):
    return secrets.choice(items)


def jitter(low: float, high: float) -> float:
    """A uniform random float in [low, high): spreads retries, never a secret."""
    return secrets.SystemRandom().uniform(low, high)
