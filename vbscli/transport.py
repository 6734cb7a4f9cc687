"""One HTTP exchange: connect, send, read the whole answer, and say how it failed when it does.

Every failure becomes a NetworkError that says whether the request **surely did not reach** the
service (`sent=False`: nothing left this process, or no connection was made) or **may have been
processed** (`sent=True`: the request went out and its answer was lost, cut off or late). What to do
about it - retry, look up, give up - is decided above this module (vbscli.client, vbscli.lost_answer).
Failures are told apart by exception type (isinstance), never by class names.

Nothing here prints; the optional `trace` callback receives debug lines with secrets masked.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from vbscli import __version__, redact
from vbscli.errors import BadResponseError, ConfigError, NetworkError

MAX_BODY = 8 * 1024 * 1024
"""Answers larger than this are refused: a backup document is a few hundred bytes."""
READ_CHUNK = 65536

Trace = Callable[[str], None]

HEADER_SOURCES = {
    "x-auth-token": "the token (auth.token, VBS_TOKEN, OS_AUTH_TOKEN or an IAM login)",
    "authorization": "the access key (auth.access_key)",
    "x-security-token": "the security token (auth.security_token)",
    "x-project-id": "the project ID (project_id, VBS_PROJECT_ID)",
}
"""Where the value of a header comes from, to name it when it cannot be sent."""

TLS_MISMATCH = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE"})
"""OpenSSL's reasons when the other end answers a TLS handshake in plain HTTP."""


@dataclass(eq=False)
class Call:
    """One request, ready to be signed and sent (or shown by --dry-run)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def document(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(eq=False, repr=False)
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

    def checked(self) -> Response:
        """This answer if it is a success; a ServiceError for 4xx/5xx, a BadResponseError for anything else."""
        if self.status >= 400:
            from vbscli.error_body import parse_error

            raise parse_error(self.status, self.headers, self.body)
        if not 200 <= self.status < 300:
            location = redact.text(self.headers.get("Location", ""))
            raise BadResponseError(
                f"the service answered HTTP {self.status} {location}".rstrip(),
                "vbs does not follow redirects (they would carry your credentials elsewhere); check the endpoint URL",
            )
        return self


def user_agent() -> str:
    import requests

    py = ".".join(str(n) for n in sys.version_info[:3])
    return f"vbscli/{__version__} python/{py} requests/{requests.__version__}"


_USER_AGENT: list[str] = []


def default_headers() -> dict[str, str]:
    if not _USER_AGENT:
        _USER_AGENT.append(user_agent())
    return {"Accept": "application/json", "User-Agent": _USER_AGENT[0]}


def check_headers(headers: Mapping[str, str]) -> None:
    """Refuse, before anything is sent, a header value that HTTP cannot carry as given.

    A token pasted with a line break or a stray space would otherwise make the HTTP library fail
    with a message that quotes the secret. The message names the header and where its value comes
    from, never the value.
    """
    for name, value in headers.items():
        problem = _header_problem(value)
        if problem:
            source = HEADER_SOURCES.get(name.lower(), "vbs's settings")
            raise ConfigError(
                f"the {name} header cannot be sent: its value has {problem}; it comes from {source}",
                "check that value for a stray space, line break or invisible character (a copy-paste artefact); "
                "nothing was sent",
            )


def _header_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "a value that is not text"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "a control character (such as a line break or a tab)"
    if any(ord(c) > 0x7E for c in value):
        return "a character outside printable ASCII (such as an invisible space)"
    if value != value.strip():
        return "leading or trailing whitespace"
    return None


class Transport:
    """Exchanges over one requests session (connection pool), with timeouts, TLS settings and proxies."""

    def __init__(
        self,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        verify: bool | str = True,
        pool_size: int = 10,
        trace: Trace | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.verify = verify
        self.pool_size = pool_size
        self.trace = trace
        self._session: Any = None
        self._lock = threading.Lock()

    def exchange(self, call: Call) -> Response:
        """Send `call` (already signed) and read the whole answer, whatever its status.

        Raises ConfigError for a header that cannot be sent, NetworkError for every failure to
        connect, send or read (with `sent` saying whether the request may have been processed), and
        BadResponseError for an answer over MAX_BODY.
        """
        import requests

        check_headers(call.headers)
        origin = _origin(call.url)
        self._trace(">", f"{call.method} {call.url}", call.headers, call.body)
        session = self._session_for()
        try:
            prepared = session.prepare_request(
                requests.Request(call.method, call.url, headers=call.headers, data=call.body or None)
            )
            proxies = requests.utils.get_environ_proxies(call.url)
        except Exception as exc:  # noqa: BLE001 - whatever it is, nothing has left this process
            raise NetworkError(
                f"could not build the request to {origin}: {_reason(exc)}",
                "check the endpoint URL; nothing was sent",
                retryable=False,
            ) from None
        started = time.monotonic()
        try:
            raw = session.send(
                prepared,
                timeout=(self.connect_timeout, self.read_timeout),
                verify=self.verify,
                stream=True,
                allow_redirects=False,
                proxies=proxies,
            )
        except Exception as exc:  # noqa: BLE001 - classified below, by type
            raise self._send_failure(exc, origin) from None
        try:
            body = self._read_body(raw, started, origin)
        finally:
            try:
                raw.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail again; nothing to add
                pass
        response = Response(
            status=raw.status_code,
            headers=dict(raw.headers),
            body=body,
            elapsed=time.monotonic() - started,
            url=call.url,
        )
        self._trace("<", f"HTTP {response.status} ({response.elapsed * 1000:.1f} ms)", response.headers, body)
        return response

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    # -- the session ---------------------------------------------------------------------------

    def _session_for(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._new_session()
            return self._session

    def _new_session(self) -> Any:
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
        return session

    # -- reading -------------------------------------------------------------------------------

    def _read_body(self, raw: Any, started: float, origin: str) -> bytes:
        """The whole body: at most MAX_BODY bytes, complete within connect + read timeout.

        Any failure here happens after the request was sent: the service may have processed it.
        """
        import http.client

        import requests
        from urllib3 import exceptions as urllib3_errors

        chunks: list[bytes] = []
        size = 0
        allowed = self.connect_timeout + self.read_timeout
        deadline = started + allowed
        expected = raw.headers.get("Content-Length")
        try:
            while True:
                chunk = raw.raw.read1(READ_CHUNK, decode_content=True)
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
                        f"{origin} sent its answer too slowly (not complete after {allowed:g} s)",
                        "the service or a proxy is stalling; try again later",
                        sent=True,
                    )
        except (urllib3_errors.ReadTimeoutError, TimeoutError):
            raise NetworkError(
                f"{origin} stopped sending its answer (HTTP {raw.status_code}, nothing more for "
                f"{self.read_timeout:g} s after {size} bytes)",
                "the service or a proxy is stalling; try again later, or raise --read-timeout",
                sent=True,
            ) from None
        except (
            urllib3_errors.HTTPError,
            http.client.HTTPException,
            requests.exceptions.RequestException,
            OSError,
        ) as exc:
            of = f" of {expected}" if expected and expected.isdigit() else ""
            raise NetworkError(
                f"the answer from {origin} was cut off (HTTP {raw.status_code}, {size}{of} bytes received: "
                f"{_reason(exc)})",
                "the connection or a proxy broke; try again",
                sent=True,
            ) from None
        return b"".join(chunks)

    # -- classifying ---------------------------------------------------------------------------

    def _send_failure(self, exc: BaseException, origin: str) -> NetworkError:
        """What a failure of session.send means: surely not sent, or maybe processed."""
        import socket
        import ssl

        import requests
        from urllib3 import exceptions as urllib3_errors

        errors = requests.exceptions
        chain = _causes(exc)
        host = urlsplit(origin).netloc
        if isinstance(exc, errors.ConnectTimeout):
            return NetworkError(
                f"could not connect to {origin} within {self.connect_timeout:g} s",
                "check the endpoint and your network or proxy, or raise --connect-timeout",
            )
        if isinstance(exc, errors.SSLError) or (
            any(isinstance(c, ssl.SSLError) for c in chain) and not isinstance(exc, errors.ReadTimeout)
        ):
            return self._tls_failure(chain, origin)
        if isinstance(exc, errors.ProxyError):
            return NetworkError(
                f"the proxy for {origin} failed: {_reason(exc)}",
                "check HTTPS_PROXY/HTTP_PROXY and NO_PROXY; nothing reached the service",
            )
        if isinstance(exc, (errors.InvalidURL, errors.InvalidSchema, errors.MissingSchema, errors.InvalidHeader)):
            return NetworkError(
                f"could not send the request to {origin}: {_reason(exc)}",
                "check the endpoint URL; nothing was sent",
                retryable=False,
            )
        if isinstance(exc, errors.ReadTimeout) or any(isinstance(c, urllib3_errors.ReadTimeoutError) for c in chain):
            return NetworkError(
                f"{origin} did not answer within {self.read_timeout:g} s",
                "the service may be slow: try again later, or raise --read-timeout",
                sent=True,
            )
        if any(
            isinstance(c, (urllib3_errors.NewConnectionError, socket.gaierror, ConnectionRefusedError)) for c in chain
        ):
            # No connection was made: the request surely did not reach the service.
            if any(isinstance(c, socket.gaierror) for c in chain):
                return NetworkError(
                    f"cannot resolve the host name {urlsplit(origin).hostname!r} of {origin}",
                    "check the endpoint URL and your DNS",
                )
            if any(isinstance(c, ConnectionRefusedError) for c in chain):
                return NetworkError(
                    f"connection to {host} refused ({origin})",
                    "check the endpoint URL and port, and that the service is up",
                )
            return NetworkError(
                f"could not connect to {origin}: {_reason(exc)}",
                "check the endpoint and your network or proxy",
            )
        return NetworkError(
            f"connection to {origin} failed: {_reason(exc)}",
            "check the endpoint and your network or proxy, and try again",
            sent=True,
        )

    def _tls_failure(self, chain: list[BaseException], origin: str) -> NetworkError:
        import ssl

        reasons = [c for c in chain if isinstance(c, ssl.SSLError)]
        if any(getattr(c, "reason", None) in TLS_MISMATCH for c in reasons):
            http_origin = "http://" + origin.removeprefix("https://")
            return NetworkError(
                f"TLS connection to {origin} failed: the endpoint may not speak TLS (it answered in plain HTTP?)",
                f"check the endpoint's scheme and port: if the service is plain HTTP, use {http_origin}",
                retryable=False,
            )
        reason = "handshake failed"
        for item in reasons:
            if isinstance(item, ssl.SSLCertVerificationError):
                reason = item.verify_message or "certificate verify failed"
                break
        else:
            if reasons:
                reason = reasons[0].reason or _reason(reasons[0])
        return NetworkError(
            f"TLS connection to {origin} failed: {reason}",
            "check the endpoint's certificate, or give the CA bundle with --ca-bundle or the profile's 'verify'",
            retryable=False,
        )

    # -- tracing -------------------------------------------------------------------------------

    def _trace(self, direction: str, first: str, headers: Mapping[str, str], body: bytes) -> None:
        """One exchange's half for --debug: first line, headers and body, credentials masked."""
        if self.trace is None:
            return
        self.trace(f"{direction} {redact.text(first)}")
        for name, value in redact.headers(headers).items():
            self.trace(f"{direction} {name}: {value}")
        if body:
            self.trace(f"{direction} {redact.body(body)}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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


def _reason(exc: BaseException) -> str:
    """The innermost readable reason (e.g. 'Connection reset by peer'), one line, secrets masked."""
    import http.client

    from urllib3 import exceptions as urllib3_errors

    from vbscli.error_body import clean

    chain = _causes(exc)
    for item in reversed(chain):
        text = getattr(item, "strerror", None) or ""
        if text:
            return clean(redact.text(text), 160)
    for item in chain:
        if isinstance(item, http.client.IncompleteRead):
            return "the connection closed before the whole answer arrived"
        if isinstance(item, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
    for item in chain:
        if isinstance(item, urllib3_errors.ProtocolError):
            return "the connection broke during the exchange"
    last = chain[-1]
    return clean(redact.text(str(last) or type(last).__name__), 160)
