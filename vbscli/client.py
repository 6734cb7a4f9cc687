"""The HTTP layer: builds, signs and sends requests to the service and reads its answers.

It knows nothing about the terminal: failures are raised as typed errors (vbscli.errors) and the
optional `trace` callback receives debug lines with secrets already masked.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
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

    endpoint: str
    project_id: str
    auth: Auth
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    verify: bool | str = True
    trace: Trace | None = None
    _session: Any = field(default=None, repr=False)

    @property
    def user_agent(self) -> str:
        import requests

        py = ".".join(str(n) for n in sys.version_info[:3])
        return f"vbscli/{__version__} python/{py} requests/{requests.__version__}"

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """`{endpoint}/v3/{project_id}{path}` with an optional query string."""
        url = f"{self.endpoint}/v3/{self.project_id}{path}"
        if params:
            query = urlencode([(k, v) for k, v in params.items() if v is not None])
            if query:
                url += "?" + query
        return url

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
        return self.send(self.prepare(method, path, body, params))

    def send(self, call: Call) -> Response:
        """Send once; a 2xx comes back, anything else is raised (ServiceError, NetworkError, BadResponseError)."""
        import requests

        signed = self.sign(call)
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
                body = self._read_body(raw, started)
            finally:
                raw.close()
        except requests.exceptions.RequestException as exc:
            raise self._network_error(exc) from exc
        response = Response(
            status=raw.status_code,
            headers=dict(raw.headers),
            body=body,
            elapsed=time.monotonic() - started,
            url=signed.url,
        )
        self._trace_response(response)
        if response.status >= 400:
            raise parse_error(response.status, response.headers, response.body)
        if not 200 <= response.status < 300:
            location = response.headers.get("Location", "")
            raise BadResponseError(
                f"the service answered HTTP {response.status} {location}".rstrip(),
                "vbs does not follow redirects (they would carry your credentials elsewhere); "
                "check the endpoint URL",
            )
        return response

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- internals -------------------------------------------------------------------------------

    def _session_for(self) -> Any:
        if self._session is None:
            import requests

            session = requests.Session()
            # trust_env would let ~/.netrc replace our Authorization header and REQUESTS_CA_BUNDLE
            # override the profile's `verify`; proxies from the environment are applied per request.
            session.trust_env = False
            self._session = session
        return self._session

    def _read_body(self, raw: Any, started: float) -> bytes:
        """Read at most MAX_BODY bytes, and give up when the whole answer takes longer than the read timeout."""
        chunks: list[bytes] = []
        size = 0
        deadline = started + self.connect_timeout + self.read_timeout
        while True:
            chunk = raw.raw.read1(65536, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BODY:
                raise BadResponseError(
                    f"the answer from {self.endpoint} is larger than {MAX_BODY // (1024 * 1024)} MiB",
                    "the endpoint does not behave like a VBS service; check it",
                )
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise NetworkError(
                    f"{self.endpoint} sent its answer too slowly (not complete after "
                    f"{self.connect_timeout + self.read_timeout:g} s)",
                    "the service or a proxy is stalling; the request may have been processed, "
                    "so check whether the backup exists before retrying",
                )
        return b"".join(chunks)

    def _network_error(self, exc: Exception) -> NetworkError:
        import requests

        host = urlsplit(self.endpoint).netloc
        chain = _causes(exc)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return NetworkError(
                f"could not connect to {self.endpoint} within {self.connect_timeout:g} s",
                "check the endpoint and your network or proxy, or raise --connect-timeout",
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return NetworkError(
                f"{self.endpoint} did not answer within {self.read_timeout:g} s",
                "the request may have been processed: check whether the backup exists before "
                "retrying, or raise --read-timeout",
            )
        if isinstance(exc, requests.exceptions.SSLError):
            reason = _ssl_reason(chain)
            return NetworkError(
                f"TLS connection to {self.endpoint} failed: {reason}",
                "check the endpoint's certificate, or give the CA bundle with --ca-bundle "
                "or the profile's 'verify'",
            )
        if any(type(c).__name__ in ("NameResolutionError", "gaierror") for c in chain):
            return NetworkError(
                f"cannot resolve the host name {urlsplit(self.endpoint).hostname!r} of {self.endpoint}",
                "check the endpoint URL and your DNS",
            )
        if any(isinstance(c, ConnectionRefusedError) for c in chain):
            return NetworkError(
                f"connection to {host} refused ({self.endpoint})",
                "check the endpoint URL and port, and that the service is up",
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = _short_reason(chain)
            return NetworkError(
                f"connection to {self.endpoint} failed: {reason}",
                "the request may have been processed: check whether the backup exists before retrying",
            )
        return NetworkError(
            f"request to {self.endpoint} failed: {_short_reason(chain)}",
            "check the endpoint and retry with --debug for details",
        )

    def _trace_request(self, call: Call) -> None:
        if self.trace is None:
            return
        self.trace(f"> {call.method} {call.url}")
        for name, value in redact.headers(call.headers).items():
            self.trace(f"> {name}: {value}")
        if call.body:
            self.trace(f"> {redact.body(call.body)}")

    def _trace_response(self, response: Response) -> None:
        if self.trace is None:
            return
        self.trace(f"< HTTP {response.status} ({response.elapsed * 1000:.1f} ms)")
        for name, value in redact.headers(response.headers).items():
            self.trace(f"< {name}: {value}")
        if response.body:
            self.trace(f"< {redact.body(response.body)}")


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
