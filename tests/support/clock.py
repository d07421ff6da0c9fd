"""The service's clock in in-process tests: frozen, moved by the test."""
T0 = 1_800_000_000  # a fixed start time, on a TOTP step boundary


class FrozenClock:
    def __init__(self, start: float = T0):
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
