"""A pure token bucket for client frames: time is passed in, so it is tested with plain numbers."""


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int, *, now: float) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._at = now

    def take(self, now: float) -> bool:
        self._tokens = min(self._burst, self._tokens + max(0.0, now - self._at) * self._rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
