"""The service client: prepares, signs, sends and retries requests to one VBS endpoint.

The single exchange (connect, send, read, classify failures) is vbscli.transport's; this module
decides what to do with its verdicts: repeat what is safe to repeat, renew credentials after a 401,
and hand everything else up as typed errors (vbscli.errors). It knows nothing about the terminal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from vbscli.auth import Auth
from vbscli.errors import VbsError
from vbscli.transport import MAX_BODY, Call, Response, Transport, default_headers

__all__ = ["MAX_BODY", "Call", "Client", "Response", "encode_query"]

Trace = Callable[[str], None]
T = TypeVar("T")

_UNRESERVED = "-_.~"  # with A-Za-z0-9: what RFC 3986 never encodes, and what the AK/SK signature keeps


def encode_query(params: Mapping[str, Any]) -> str:
    """`k=v&...` encoded as RFC 3986 (a space is %20, `+` is %2B): exactly what an AK/SK signature
    covers, so a gateway reads the same value whether it takes `+` as a space or literally."""
    return "&".join(
        f"{quote(str(k), safe=_UNRESERVED)}={quote(str(v), safe=_UNRESERVED)}"
        for k, v in params.items()
        if v is not None
    )


@dataclass(eq=False, repr=False)
class Client:
    """A connection to one VBS endpoint for one project, with one set of credentials."""

    endpoint: str | None
    """The service root; None when it comes from the login's service catalog (`endpoint_from`)."""
    project_id: str | None
    auth: Auth
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    verify: bool | str = True
    trace: Trace | None = None
    retry: Any = None
    """A vbscli.retry.RetryPolicy; None sends each request once."""
    notify: Trace | None = None
    """Receives one line per retry (the CLI prints it on stderr)."""
    on_retry: Callable[[Any], None] | None = None
    """Called with the error before each retry (a batch slows down when it is throttled)."""
    pool_size: int = 10
    """Connections kept open to the endpoint: at least as many as requests in flight."""
    transport: Transport | None = None
    """The exchange; made from the settings above on first use unless given."""
    endpoint_from: Callable[[Any], str] | None = None
    """Finds the service root, given the credentials, when no endpoint is configured (in the service
    catalog of the login)."""
    _server_clock: Any = field(default=None, repr=False)

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """`{endpoint}/v3/{project_id}{path}` with an optional query string (RFC 3986 encoded).

        When the root or the project comes from a login (the service catalog, a project known by name),
        that login is repeated on failures that allow it, as a request is: a login changes nothing."""
        if self.endpoint and self.project_id:
            root, project = self.endpoint, self.project_id
        else:
            root, project = self._retrying(lambda: (self.root(), self.project_id or self.auth.project_id()), "login")
        url = f"{root}/v3/{project}{path}"
        if params:
            query = encode_query(params)
            if query:
                url += "?" + query
        return url

    def root(self) -> str:
        """The service root: the configured endpoint, or the one the service catalog names."""
        if self.endpoint:
            return self.endpoint
        if self.endpoint_from is None:
            raise ValueError("Client needs an endpoint or endpoint_from")
        return self.endpoint_from(self.auth)

    def prepare(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Call:
        headers = default_headers()
        data = b""
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        return Call(method, self.url(path, params), headers, data)

    def sign(self, call: Call) -> Call:
        """A copy of `call` with credentials added (signatures depend on the final headers and body)."""
        signed = replace(call, headers=dict(call.headers))
        self.auth.sign(signed.method, signed.url, signed.headers, signed.body)
        return signed

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        *,
        what: str | None = None,
    ) -> Response:
        """Send a request; GET is idempotent, so every retryable failure may simply be repeated."""
        return self.send(self.prepare(method, path, body, params), idempotent=method == "GET", what=what)

    def send(self, call: Call, *, idempotent: bool = False, what: str | None = None) -> Response:
        """Send with the retry policy: repeat what is safe to repeat, raise everything else.

        An ambiguous failure (the request may have been processed) of a non-idempotent call is raised
        with `ambiguous = True`, for the caller to find out what happened before trying again.
        `what` names the request in retry lines ("create", "lookup", "poll", ...).
        """
        name = what or f"{call.method} {urlsplit(call.url).path}"
        return self._retrying(lambda: self.send_once(call), name, idempotent=idempotent)

    def _retrying(self, attempt: Callable[[], T], name: str, *, idempotent: bool = True) -> T:
        """`attempt()` under the retry policy; `name` says what is repeated in retry lines."""
        from vbscli import retry

        policy = self.retry or retry.NO_RETRY
        started = policy.clock()
        number = 1
        while True:
            try:
                return attempt()
            except VbsError as exc:
                verdict = retry.classify(exc)
                if verdict == retry.AMBIGUOUS and (idempotent or exc.before_sending):
                    verdict = retry.RETRY  # a read, or a login that failed before this request left
                exc.ambiguous = verdict == retry.AMBIGUOUS
                if verdict != retry.RETRY or number >= policy.max_attempts:
                    if verdict == retry.RETRY and number > 1:
                        exc.add_note(f"gave up after {number} attempts")
                    raise
                wait = policy.delay(number, getattr(exc, "retry_after", None))
                if policy.clock() - started + wait > policy.deadline:
                    exc.add_note(f"gave up: the {policy.deadline:g} s deadline would pass")
                    raise
                number += 1
                if self.on_retry:
                    self.on_retry(exc)
                if self.notify:
                    self.notify(
                        f"retrying {name} in {wait:.1f} s (attempt {number} of {policy.max_attempts}): {exc.brief()}"
                    )
                policy.sleep(wait)

    def send_once(self, call: Call) -> Response:
        """One attempt, plus one repeat after a 401 if the credentials were renewed meanwhile."""
        from vbscli.errors import ServiceError

        signed = _before_sending(self.sign, call)
        try:
            return self.exchange(signed)
        except ServiceError as exc:
            if exc.status == 401 and _before_sending(self.auth.refresh, signed.headers):
                if self.trace:
                    self.trace("401 on a token that has been replaced or was cached: repeating with a new one")
                return self.exchange(_before_sending(self.sign, call))
            raise

    def exchange(self, signed: Call) -> Response:
        """One HTTP exchange of an already signed call; error statuses raised as typed errors."""
        response = self._transport().exchange(signed)
        self._note_server_time(response.headers)
        return response.checked()

    def server_now(self) -> datetime | None:
        """The service's current time, from the Date header of its latest answer (None if unknown)."""
        if self._server_clock is None:
            return None
        from email.utils import parsedate_to_datetime  # only a lost answer needs it: not at start-up

        value, received = self._server_clock
        try:
            date = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if date.tzinfo is None:
            date = date.replace(tzinfo=timezone.utc)
        return date + timedelta(seconds=time.monotonic() - received)

    def _note_server_time(self, headers: Mapping[str, str]) -> None:
        value = headers.get("Date") or headers.get("date")
        if value:
            self._server_clock = (value, time.monotonic())

    def _transport(self) -> Transport:
        if self.transport is None:
            self.transport = Transport(
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                verify=self.verify,
                pool_size=self.pool_size,
                trace=self.trace,
            )
        elif self.transport.pool_size < self.pool_size:
            self.transport.pool_size = self.pool_size  # before its first request: the pool is made then
        return self.transport

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _before_sending(step: Callable[[Any], Any], argument: Any) -> Any:
    """Run a step that comes before the request leaves (signing, a login): whatever fails there, this
    request surely was not sent, even if the login's own answer was lost."""
    try:
        return step(argument)
    except VbsError as exc:
        exc.before_sending = True
        raise
