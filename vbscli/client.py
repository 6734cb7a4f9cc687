"""The HTTP layer: builds, signs and sends requests to the service and reads its answers.

It knows nothing about the terminal: failures are raised as typed errors (vbscli.errors) and the
optional `trace` callback receives debug lines with secrets already masked.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

from vbscli import __version__, redact
from vbscli.auth import Auth
from vbscli.error_body import parse_error
from vbscli.errors import BadResponseError, NetworkError

MAX_BODY = 8 * 1024 * 1024
"""Answers larger than this are refused: a backup document is a few hundred bytes."""

Trace = Callable[[str], None]


@dataclass
class Call:
    """One request, ready to be signed and sent (or shown by --dry-run)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def document(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0
    url: str = ""

    def json(self) -> Any:
        """The body as JSON; a BadResponseError if it is not."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise BadResponseError(
                f"the service answered HTTP {self.status} with a body that is not JSON",
                "the endpoint may not be a VBS service; check it, or retry with --debug to see the answer",
            ) from None


@dataclass
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
    endpoint_from: Callable[[Any], str] | None = None
    """Finds the service root, given the credentials, when no endpoint is configured (in the service
    catalog of the login)."""
    _session: Any = field(default=None, repr=False)
    _server_clock: Any = field(default=None, repr=False)
    _session_lock: Any = field(default_factory=threading.Lock, repr=False)

    @property
    def user_agent(self) -> str:
        import requests

        py = ".".join(str(n) for n in sys.version_info[:3])
        return f"vbscli/{__version__} python/{py} requests/{requests.__version__}"

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """`{endpoint}/v3/{project_id}{path}` with an optional query string."""
        root = self.root()
        project = self.project_id or self.auth.project_id()
        url = f"{root}/v3/{project}{path}"
        if params:
            query = urlencode([(k, v) for k, v in params.items() if v is not None])
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
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
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

    def request(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Response:
        """Send a request; GET is idempotent, so every retryable failure may simply be repeated."""
        return self.send(self.prepare(method, path, body, params), idempotent=method == "GET")

    def send(self, call: Call, *, idempotent: bool = False) -> Response:
        """Send with the retry policy: repeat what is safe to repeat, raise everything else.

        An ambiguous failure (the request may have been processed) of a non-idempotent call is raised
        with `ambiguous = True`, for the caller to find out what happened before trying again.
        """
        from vbscli import retry
        from vbscli.errors import VbsError

        policy = self.retry or retry.NO_RETRY
        started = policy.clock()
        attempt = 1
        while True:
            try:
                return self.send_once(call)
            except VbsError as exc:
                verdict = retry.classify(exc)
                if verdict == retry.AMBIGUOUS and idempotent:
                    verdict = retry.RETRY
                exc.ambiguous = verdict == retry.AMBIGUOUS  # type: ignore[attr-defined]
                if verdict != retry.RETRY or attempt >= policy.max_attempts:
                    if verdict == retry.RETRY and attempt > 1:
                        exc.message += f" (gave up after {attempt} attempts)"
                    raise
                wait = policy.delay(attempt, getattr(exc, "retry_after", None))
                if policy.clock() - started + wait > policy.deadline:
                    exc.message += f" (gave up: the {policy.deadline:g} s deadline would pass)"
                    raise
                attempt += 1
                if self.on_retry:
                    self.on_retry(exc)
                if self.notify:
                    self.notify(
                        f"retrying in {wait:.1f} s (attempt {attempt} of {policy.max_attempts}): {exc.one_line()}"
                    )
                policy.sleep(wait)

    def send_once(self, call: Call) -> Response:
        """One attempt (plus one repeat after a 401 if the credentials could be renewed)."""
        from vbscli.errors import ServiceError

        try:
            return self.exchange(self.sign(call))
        except ServiceError as exc:
            if exc.status == 401 and self.auth.refresh():
                if self.trace:
                    self.trace("401 on a cached token: logging in again and repeating the request once")
                return self.exchange(self.sign(call))
            raise

    def login(self, url: str, body: dict) -> Any:
        """The IAM password call, through the same session, timeouts and TLS settings."""
        from vbscli.errors import ServiceError
        from vbscli.iam import grant_from

        call = Call(
            "POST",
            url,
            {"Accept": "application/json", "Content-Type": "application/json", "User-Agent": self.user_agent},
            json.dumps(body, separators=(",", ":")).encode("utf-8"),
        )
        try:
            response = self.exchange(call)
        except ServiceError as exc:
            exc.message = f"IAM login at {url} failed: {exc.message}"
            raise
        return grant_from(response.headers, response.json(), url)

    def exchange(self, signed: Call) -> Response:
        """One HTTP exchange of an already signed call."""
        import requests

        self._trace_request(signed)
        session = self._session_for()
        started = time.monotonic()
        try:
            raw = session.request(
                signed.method,
                signed.url,
                headers=signed.headers,
                data=signed.body or None,
                timeout=(self.connect_timeout, self.read_timeout),
                verify=self.verify,
                stream=True,
                allow_redirects=False,
                proxies=requests.utils.get_environ_proxies(signed.url),
            )
            try:
                body = self._read_body(raw, started, signed.url)
            finally:
                raw.close()
        except requests.exceptions.RequestException as exc:
            raise self._network_error(exc, signed.url) from exc
        response = Response(
            status=raw.status_code,
            headers=dict(raw.headers),
            body=body,
            elapsed=time.monotonic() - started,
            url=signed.url,
        )
        self._trace_response(response)
        self._note_server_time(response.headers)
        if response.status >= 400:
            raise parse_error(response.status, response.headers, response.body)
        if not 200 <= response.status < 300:
            location = response.headers.get("Location", "")
            raise BadResponseError(
                f"the service answered HTTP {response.status} {location}".rstrip(),
                "vbs does not follow redirects (they would carry your credentials elsewhere); check the endpoint URL",
            )
        return response

    def server_now(self) -> datetime | None:
        """The service's current time, from the Date header of its latest answer (None if unknown)."""
        if self._server_clock is None:
            return None
        date, received = self._server_clock
        return date + timedelta(seconds=time.monotonic() - received)

    def _note_server_time(self, headers: Mapping[str, str]) -> None:
        from email.utils import parsedate_to_datetime

        value = headers.get("Date") or headers.get("date")
        if not value:
            return
        try:
            date = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return
        if date.tzinfo is None:
            date = date.replace(tzinfo=timezone.utc)
        self._server_clock = (date, time.monotonic())

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- internals -------------------------------------------------------------------------------

    def _session_for(self) -> Any:
        with self._session_lock:
            return self._make_session()

    def _make_session(self) -> Any:
        if self._session is None:
            import requests

            if self.verify is False:
                # vbs says it once in its own words; urllib3 would add a multi-line warning per request.
                import warnings

                from urllib3.exceptions import InsecureRequestWarning

                warnings.filterwarnings("ignore", category=InsecureRequestWarning)
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=self.pool_size)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # trust_env would let ~/.netrc replace our Authorization header and REQUESTS_CA_BUNDLE
            # override the profile's `verify`; proxies from the environment are applied per request.
            session.trust_env = False
            self._session = session
        return self._session

    def _read_body(self, raw: Any, started: float, url: str) -> bytes:
        """Read at most MAX_BODY bytes, and give up when the whole answer takes longer than the read timeout."""
        chunks: list[bytes] = []
        size = 0
        deadline = started + self.connect_timeout + self.read_timeout
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        while True:
            chunk = raw.raw.read1(65536, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BODY:
                raise BadResponseError(
                    f"the answer from {origin} is larger than {MAX_BODY // (1024 * 1024)} MiB",
                    "the endpoint does not behave like a VBS service; check it",
                )
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise NetworkError(
                    f"{origin} sent its answer too slowly (not complete after "
                    f"{self.connect_timeout + self.read_timeout:g} s)",
                    "the service or a proxy is stalling; the request may have been processed, "
                    "so check whether the backup exists before retrying",
                    sent=True,
                )
        return b"".join(chunks)

    def _network_error(self, exc: Exception, url: str) -> NetworkError:
        import requests

        parts = urlsplit(url)
        endpoint = f"{parts.scheme}://{parts.netloc}"
        host = parts.netloc
        chain = _causes(exc)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return NetworkError(
                f"could not connect to {endpoint} within {self.connect_timeout:g} s",
                "check the endpoint and your network or proxy, or raise --connect-timeout",
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return NetworkError(
                f"{endpoint} did not answer within {self.read_timeout:g} s",
                "the request may have been processed: check whether the backup exists before "
                "retrying, or raise --read-timeout",
                sent=True,
            )
        if isinstance(exc, requests.exceptions.SSLError):
            reason = _ssl_reason(chain)
            return NetworkError(
                f"TLS connection to {endpoint} failed: {reason}",
                "check the endpoint's certificate, or give the CA bundle with --ca-bundle or the profile's 'verify'",
                retryable=False,
            )
        if any(type(c).__name__ in ("NameResolutionError", "gaierror") for c in chain):
            return NetworkError(
                f"cannot resolve the host name {parts.hostname!r} of {endpoint}",
                "check the endpoint URL and your DNS",
            )
        if any(isinstance(c, ConnectionRefusedError) for c in chain):
            return NetworkError(
                f"connection to {host} refused ({endpoint})",
                "check the endpoint URL and port, and that the service is up",
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = _short_reason(chain)
            return NetworkError(
                f"connection to {endpoint} failed: {reason}",
                "the request may have been processed: check whether the backup exists before retrying",
                sent=True,
            )
        return NetworkError(
            f"request to {endpoint} failed: {_short_reason(chain)}",
            "check the endpoint and retry with --debug for details",
            sent=True,
        )

    def _trace_request(self, call: Call) -> None:
        self._trace(">", f"{call.method} {call.url}", call.headers, call.body)

    def _trace_response(self, response: Response) -> None:
        self._trace("<", f"HTTP {response.status} ({response.elapsed * 1000:.1f} ms)", response.headers, response.body)

    def _trace(self, direction: str, first: str, headers: Mapping[str, str], body: bytes) -> None:
        """One exchange's half for --debug: first line, headers and body, credentials masked."""
        if self.trace is None:
            return
        self.trace(f"{direction} {first}")
        for name, value in redact.headers(headers).items():
            self.trace(f"{direction} {name}: {value}")
        if body:
            self.trace(f"{direction} {redact.body(body)}")


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (requests nests urllib3 and socket errors)."""
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [exc]
    while stack:
        item = stack.pop()
        if item is None or any(item is s for s in seen) or len(seen) > 20:
            continue
        seen.append(item)
        stack.extend([item.__cause__, item.__context__])
        stack.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return seen


def _ssl_reason(chain: list[BaseException]) -> str:
    import ssl

    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return item.verify_message or "certificate verify failed"
    for item in chain:
        if isinstance(item, ssl.SSLError):
            return item.reason or str(item)
    return "handshake failed"


def _short_reason(chain: list[BaseException]) -> str:
    """The innermost readable reason (e.g. 'Connection reset by peer'), one line."""
    from vbscli.error_body import clean

    for item in reversed(chain):
        text = getattr(item, "strerror", None) or ""
        if text:
            return clean(text, 160)
    names = {
        "RemoteDisconnected": "the server closed the connection without answering",
        "ProtocolError": "the connection broke during the exchange",
        "IncompleteRead": "the answer was cut off",
    }
    for item in chain:
        if type(item).__name__ in names:
            return names[type(item).__name__]
    return clean(str(chain[-1]) or type(chain[-1]).__name__, 160)
