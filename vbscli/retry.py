"""When to try again, and how long to wait first.

A retry is safe when the request surely was not processed (no connection was made; see
vbscli.transport) or when the service says "later" (429, the gateway's throttling code, 503, a 413
whose Retry-After is at least a second). When the request may have been processed (read timeout,
connection lost after sending, an answer cut off, 500, 502, 504) the answer is "ambiguous": an
idempotent request (GET) may simply be repeated, but a create must first look for what it may have
done (see vbscli.lost_answer). A full quota (413 with `Retry-After: 0` or none) is final.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vbscli.errors import NetworkError, ServiceError, VbsError, is_rate_limit

RETRY, AMBIGUOUS, FINAL = "retry", "ambiguous", "final"
THROTTLE_CODES = frozenset({"APIGW.0308"})


def is_throttle(exc: VbsError) -> bool:
    """The service asking to slow down: 429, the gateway's throttling code, or a 413 with Retry-After >= 1 s."""
    return isinstance(exc, ServiceError) and (
        exc.status == 429
        or (exc.code or "") in THROTTLE_CODES
        or (exc.status == 413 and is_rate_limit(exc.retry_after))
    )


def classify(exc: VbsError) -> str:
    """RETRY (surely not processed, or told to come back), AMBIGUOUS (may have been processed) or FINAL."""
    if is_throttle(exc):
        return RETRY
    if isinstance(exc, ServiceError):
        if exc.status == 503:
            return RETRY
        if exc.status in (500, 502, 504):
            return AMBIGUOUS  # the service, or a gateway before it, may have done the work
        return FINAL
    if isinstance(exc, NetworkError):
        if not exc.retryable:
            return FINAL
        return AMBIGUOUS if exc.sent else RETRY
    return FINAL


@dataclass(eq=False, repr=False)
class RetryPolicy:
    """At most `max_attempts` tries within `deadline` seconds, backing off exponentially with jitter."""

    max_attempts: int = 4
    deadline: float = 300.0
    base: float = 1.0
    cap: float = 20.0
    retry_after_cap: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based).

        Retry-After is honoured up to `retry_after_cap`; otherwise "full jitter": a random wait up to
        base * 2^(attempt-1), capped, so that many clients throttled together do not return together.
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        return self.rng.uniform(0.5, 1.0) * min(self.cap, self.base * 2 ** (attempt - 1))


NO_RETRY = RetryPolicy(max_attempts=1)
