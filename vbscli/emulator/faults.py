"""Failures on demand: latency, random 5xx and throttling, and scripted sequences of faults.

A script is a list of steps applied to the next matching requests, e.g. "the first two creates
get 503, then normal": [{"match": "POST backups", "times": 2, "fault": "status", "status": 503}].
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("status", "throttle", "overlimit", "drop_before", "drop_after", "html", "truncated", "empty",
         "delay", "slow_body", "huge_body")
ROUTES = ("backups", "backups_detail", "backup", "auth_tokens", "*")


class FaultError(ValueError):
    """A fault configuration that cannot be applied."""


@dataclass
class Step:
    fault: str
    match: str = "*"
    times: int = 1
    status: int | None = None
    retry_after: float | None = None
    body: Any = None
    seconds: float = 0.0

    def matches(self, method: str, route: str) -> bool:
        if self.match in ("*", ""):
            return True
        want_method, _, want_route = self.match.partition(" ")
        if not want_route:
            want_method, want_route = "*", want_method
        return want_method in ("*", method) and want_route in ("*", route)


@dataclass
class Faults:
    latency: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: float | None = None
    script: list[Step] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, doc: dict[str, Any]) -> None:
        """Replace the configuration (the body of POST /_emulator/faults, or the CLI's options)."""
        if not isinstance(doc, dict):
            raise FaultError("the fault configuration must be a JSON object")
        unknown = set(doc) - {"latency", "error_rate", "throttle_rate", "retry_after", "script", "seed"}
        if unknown:
            raise FaultError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        try:
            latency = float(doc.get("latency", 0.0))
            error_rate = float(doc.get("error_rate", 0.0))
            throttle_rate = float(doc.get("throttle_rate", 0.0))
            retry_after = None if doc.get("retry_after") is None else float(doc["retry_after"])
        except (TypeError, ValueError) as exc:
            raise FaultError(f"bad number: {exc}") from None
        if not (0 <= error_rate <= 1 and 0 <= throttle_rate <= 1 and latency >= 0):
            raise FaultError("rates must be between 0 and 1 and latency not negative")
        script = [parse_step(s) for s in doc.get("script") or []]
        with self.lock:
            self.latency, self.error_rate, self.throttle_rate = latency, error_rate, throttle_rate
            self.retry_after, self.script = retry_after, script
            if doc.get("seed") is not None:
                self.rng.seed(doc["seed"])

    def pick(self, method: str, route: str) -> Step | None:
        """The fault for this request, if any: a scripted step first, then the random rates."""
        with self.lock:
            for step in self.script:
                if step.times > 0 and step.matches(method, route):
                    step.times -= 1
                    return step
            roll = self.rng.random()
            if roll < self.error_rate:
                return Step("status", status=self.rng.choice((500, 503)), retry_after=self.retry_after)
            if roll < self.error_rate + self.throttle_rate:
                return Step("throttle", retry_after=self.retry_after)
        return None

    def describe(self) -> dict[str, Any]:
        with self.lock:
            return {"latency": self.latency, "error_rate": self.error_rate, "throttle_rate": self.throttle_rate,
                    "retry_after": self.retry_after,
                    "script": [{"fault": s.fault, "match": s.match, "times": s.times} for s in self.script]}


def parse_step(doc: Any) -> Step:
    if not isinstance(doc, dict) or doc.get("fault") not in KINDS:
        raise FaultError(f"each script step needs 'fault', one of: {', '.join(KINDS)}")
    try:
        step = Step(
            fault=doc["fault"], match=str(doc.get("match", "*")), times=int(doc.get("times", 1)),
            status=None if doc.get("status") is None else int(doc["status"]),
            retry_after=None if doc.get("retry_after") is None else float(doc["retry_after"]),
            body=doc.get("body"), seconds=float(doc.get("seconds", 0.0)),
        )
    except (TypeError, ValueError) as exc:
        raise FaultError(f"bad script step {doc!r}: {exc}") from None
    route = step.match.partition(" ")[2] or step.match
    if route not in ROUTES and step.match not in ("*", ""):
        raise FaultError(f"unknown route in match {step.match!r}; routes: {', '.join(ROUTES)}")
    return step


def error_body(status: int) -> dict[str, Any]:
    """A service-shaped error document for an injected status."""
    names = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
             413: "overLimit", 415: "badMediaType", 429: "overLimit"}
    if status >= 500:
        return {"computeFault": {"code": status, "message": "The server has either erred or is incapable "
                                 "of performing the requested operation."}}
    return {names.get(status, "badRequest"): {"code": status, "message": f"Injected fault (HTTP {status})."}}
