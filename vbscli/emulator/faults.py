"""Failures on demand: latency, random 5xx and throttling, and scripted sequences of faults.

A script is a list of steps applied to the next matching requests, e.g. "the first two creates
get 503, then normal": [{"match": "POST backups", "times": 2, "fault": "status", "status": 503}].
The same JSON object configures the emulator at start and at run time (POST /_emulator/faults), so
a test driving a separate emulator process can rehearse exactly what an in-process test does.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from vbscli.emulator.answers import error_body
from vbscli.emulator.api import ALLOWED

KINDS = (
    "status",
    "throttle",
    "overlimit",
    "drop_before",
    "drop_after",
    "html",
    "truncated",
    "empty",
    "delay",
    "slow_body",
    "huge_body",
)
ROUTES = (*ALLOWED, "*")
"""What a step may match: a route of the API (vbscli.emulator.api), or any."""
SETTINGS = ("latency", "error_rate", "throttle_rate", "retry_after", "script", "random_seed")
STEP_KEYS = ("fault", "match", "times", "status", "retry_after", "retry_after_header", "body", "seconds")

ANSWERING = ("status", "throttle", "overlimit", "html", "empty")
"""Kinds that answer in place of the service: the request is never processed."""
SPOILING = ("drop_after", "truncated", "slow_body", "huge_body")
"""Kinds that let the service do its work (a create really creates) and then spoil the answer."""

HTML_PAGE = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
"""What a proxy in front of the service sends when the service behind it is down (nginx's page)."""


class FaultError(ValueError):
    """A fault configuration that cannot be applied."""


@dataclass
class Step:
    """One scripted fault; `times` counts down as matching requests arrive."""

    fault: str
    match: str = "*"
    times: int = 1
    status: int | None = None
    retry_after: float | None = None
    retry_after_header: bool = True
    body: Any = None
    seconds: float | None = None

    def matches(self, method: str, route: str) -> bool:
        want_method, want_route = split_match(self.match)
        return want_method in ("*", method) and want_route in ("*", route)

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"fault": self.fault, "match": self.match, "times": self.times}
        for key in ("status", "retry_after", "body", "seconds"):
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        if not self.retry_after_header:
            doc["retry_after_header"] = False
        return doc

    def headers(self) -> dict[str, str]:
        if self.retry_after is None or not self.retry_after_header:
            return {}
        return {"Retry-After": seconds_text(self.retry_after)}

    def answer(self, request_id: str) -> tuple[int, bytes, str, dict[str, str]]:
        """For the ANSWERING kinds: (status, body, content type, extra headers) sent instead of the service's."""
        if self.fault == "status":
            status = self.status or 503
            doc = self.body if self.body is not None else error_body(status)
            return status, json.dumps(doc).encode(), "application/json", self.headers()
        if self.fault == "throttle":
            doc = {
                "error_code": "APIGW.0308",
                "error_msg": "The throttling threshold has been reached",
                "request_id": request_id.removeprefix("req-").replace("-", ""),
            }
            return self.status or 429, json.dumps(doc).encode(), "application/json", self.headers()
        if self.fault == "overlimit":
            inner: dict[str, Any] = {"code": 413, "message": "This request was rate-limited."}
            if self.retry_after is not None:
                inner["retryAfter"] = int(self.retry_after) if self.retry_after.is_integer() else self.retry_after
            return self.status or 413, json.dumps({"overLimit": inner}).encode(), "application/json", self.headers()
        if self.fault == "html":
            status = self.status or 502
            return status, HTML_PAGE.format(status=status, phrase=phrase(status)).encode(), "text/html", self.headers()
        if self.fault == "empty":
            return self.status or 503, b"", "application/json", self.headers()
        raise FaultError(f"fault {self.fault!r} does not answer in place of the service")


def split_match(match: str) -> tuple[str, str]:
    """ "POST backups" -> ("POST", "backups"); "backups" -> ("*", "backups"); "*" -> ("*", "*")."""
    parts = match.split()
    if not parts:
        return "*", "*"
    if len(parts) == 1:
        return ("*", "*") if parts[0] == "*" else ("*", parts[0])
    return parts[0].upper(), parts[1]


@dataclass
class Faults:
    """The fault configuration in force; thread-safe, replaced as a whole by configure()."""

    latency: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: float | None = None
    script: list[Step] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, doc: dict[str, Any]) -> None:
        """Replace the configuration (the body of POST /_emulator/faults); omitted settings go back to none."""
        if not isinstance(doc, dict):
            raise FaultError("the fault configuration must be a JSON object")
        unknown = sorted(set(doc) - set(SETTINGS))
        if unknown:
            raise FaultError(f"unknown fault setting {unknown[0]!r}; settings: {', '.join(SETTINGS)}")
        latency = number(doc.get("latency", 0.0), "latency")
        error_rate = number(doc.get("error_rate", 0.0), "error_rate")
        throttle_rate = number(doc.get("throttle_rate", 0.0), "throttle_rate")
        retry_after = None if doc.get("retry_after") is None else number(doc["retry_after"], "retry_after")
        if not (0 <= error_rate <= 1 and 0 <= throttle_rate <= 1 and error_rate + throttle_rate <= 1):
            raise FaultError("error_rate and throttle_rate are shares between 0 and 1, together at most 1")
        script = doc.get("script") or []
        if not isinstance(script, list):
            raise FaultError("'script' must be a list of steps")
        steps = [parse_step(s) for s in script]
        random_seed = doc.get("random_seed")
        if random_seed is not None and not isinstance(random_seed, (int, str)):
            raise FaultError("'random_seed' must be an integer or a string")
        with self.lock:
            self.latency, self.error_rate, self.throttle_rate = latency, error_rate, throttle_rate
            self.retry_after, self.script = retry_after, steps
            if random_seed is not None:
                self.rng.seed(random_seed)

    def pick(self, method: str, route: str) -> Step | None:
        """The fault for this request, if any: the first scripted step that still matches, then the random rates."""
        with self.lock:
            for step in self.script:
                if step.times > 0 and step.matches(method, route):
                    step.times -= 1
                    return step
            if not (self.error_rate or self.throttle_rate):
                return None
            roll = self.rng.random()
            if roll < self.error_rate:
                return Step("status", status=self.rng.choice((500, 503)), retry_after=self.retry_after)
            if roll < self.error_rate + self.throttle_rate:
                return Step("throttle", retry_after=self.retry_after)
        return None

    def describe(self) -> dict[str, Any]:
        """The configuration in the shape configure() takes; scripted steps show the times still left."""
        with self.lock:
            return {
                "latency": self.latency,
                "error_rate": self.error_rate,
                "throttle_rate": self.throttle_rate,
                "retry_after": self.retry_after,
                "script": [s.to_doc() for s in self.script],
            }


def number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultError(f"'{what}' must be a number, at least 0, not {value!r}")
    return float(value)


def parse_step(doc: Any) -> Step:
    """One script step from its JSON/YAML form, checked so a typo fails at configuration, not mid-test."""
    if not isinstance(doc, dict) or doc.get("fault") not in KINDS:
        raise FaultError(f"each script step needs 'fault', one of: {', '.join(KINDS)}; got {doc!r}")
    unknown = sorted(set(doc) - set(STEP_KEYS))
    if unknown:
        raise FaultError(f"unknown key {unknown[0]!r} in script step; keys: {', '.join(STEP_KEYS)}")
    match = doc.get("match", "*")
    if not isinstance(match, str):
        raise FaultError(f"'match' must be a string like 'POST backups', not {match!r}")
    method, route = split_match(match)
    if route not in ROUTES or len(match.split()) > 2:
        raise FaultError(f"cannot match {match!r}: use 'METHOD route' with a route among {', '.join(ROUTES)}")
    times = doc.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise FaultError(f"'times' must be a whole number, at least 1, not {times!r}")
    status = doc.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise FaultError(f"'status' must be an HTTP status between 100 and 599, not {status!r}")
    retry_after_header = doc.get("retry_after_header", True)
    if not isinstance(retry_after_header, bool):
        raise FaultError("'retry_after_header' must be true or false")
    return Step(
        fault=doc["fault"],
        match="*" if (method, route) == ("*", "*") else f"{method} {route}",
        times=times,
        status=status,
        retry_after=None if doc.get("retry_after") is None else number(doc["retry_after"], "retry_after"),
        retry_after_header=retry_after_header,
        body=doc.get("body"),
        seconds=None if doc.get("seconds") is None else number(doc["seconds"], "seconds"),
    )


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def seconds_text(value: float) -> str:
    """Retry-After takes whole seconds; a fraction is sent as is for tests that want sub-second waits."""
    return str(int(value)) if float(value).is_integer() else str(value)
