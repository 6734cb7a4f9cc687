"""Waiting for the service: poll with growing pauses until the work is done, has failed, or time is up.

One loop for every wait of the cycle (a backup or a snapshot becoming available, a backup going
away, a restore finishing). A poll that fails on the way (network, 5xx) is not the work failing: polling
goes on until the timeout. A refusal (404, 401/403) or a reported failure ends the wait at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vbscli.errors import VbsError, WaitTimeout
from vbscli.exit_codes import ExitCode


@dataclass(eq=False)
class WaitPolicy:
    """How to poll: start at `first` seconds, grow by `factor` up to `interval`, give up after `timeout`."""

    timeout: float = 3600.0
    interval: float = 30.0
    first: float = 2.0
    factor: float = 1.5


Look = Callable[[], tuple[bool, Any, str]]
"""Returns (done, value, status shown while waiting); raises for a failure that ends the wait."""
FINAL = (ExitCode.REJECTED, ExitCode.AUTH, ExitCode.BACKUP_FAILED)


def until(
    look: Look,
    policy: WaitPolicy,
    *,
    what: str,
    check: str,
    on_status: Callable[[str, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Any:
    """Poll `look()` until done (its value is returned) or `policy.timeout` passes (WaitTimeout, exit 7)."""
    started = clock()
    delay = policy.first
    status = "unknown"
    problem: str | None = None
    while True:
        done, value = False, None
        try:
            done, value, status = look()
            problem = None
        except VbsError as exc:
            if getattr(exc, "exit_code", None) in FINAL:
                raise
            problem = exc.one_line()
        elapsed = clock() - started
        if on_status:
            on_status(status, elapsed)
        if done:
            return value
        remaining = policy.timeout - elapsed
        if remaining <= 0:
            state = f"still {status}" if problem is None else f"in an unknown state ({problem})"
            raise WaitTimeout(
                f"{what} is {state} after {elapsed:.0f} s of waiting",
                f"it goes on in the service; check it with: {check}",
            )
        sleep(min(delay, remaining))
        delay = min(delay * policy.factor, policy.interval)
