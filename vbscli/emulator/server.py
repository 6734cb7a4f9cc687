"""The HTTP side of the emulator: routing, authentication, faults, request ids and the request log.

The service's rules live in state.py and the fault shapes in faults.py; this module only turns
requests into calls and answers into bytes, including the broken answers faults ask for.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import SplitResult, parse_qsl, urlsplit

from vbscli.emulator import auth, cycle, keystone
from vbscli.emulator.faults import ANSWERING, SPOILING, FaultError, Faults, Step, error_body
from vbscli.emulator.seed import Seed, demo_seed

ROUTE = re.compile(r"^/v3/(?P<project>[^/]+)/backups(?:/(?P<rest>[^/]+))?/?$")
VOLUMES_ROUTE = re.compile(r"^/v3/(?P<project>[^/]+)/volumes(?P<rest>/detail)?/?$")
ALLOWED = {
    "backups": ("GET", "POST"),
    "backups_detail": ("GET",),
    "backup": ("GET", "DELETE"),
    "auth_tokens": ("POST",),
    **cycle.ALLOWED,
}
ALLOWED.update({"volumes": ("GET",), "volumes_detail": ("GET",)})
API_VERSION = re.compile(r"^volume 3\.\d{1,3}$")
MAX_BODY = 1024 * 1024
HUGE_CHUNK = b'{"backups": [' + b'{"id": "00000000-0000-4000-8000-000000000000", "name": "x"}, ' * 1024
HUGE_LIMIT = 1024**3  # a huge body stops after 1 GiB if the client never hangs up

Answer = tuple[int, Any, dict[str, str]]


@dataclass
class EmulatorConfig:
    """Everything `Emulator` needs; faults here are the starting configuration, changeable at run time.

    `clock` (monotonic seconds) decides when a backup leaves 'creating'; `wall` gives the timestamps
    shown in answers. Tests inject both so nothing waits for real time.
    """

    host: str = "127.0.0.1"
    port: int = 0
    seed: Seed = field(default_factory=demo_seed)
    create_delay: float = 2.0
    latency: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: float | None = None
    script: list[dict[str, Any]] = field(default_factory=list)
    log: TextIO | None = None
    random_seed: int | None = None
    clock: Callable[[], float] | None = None
    wall: Callable[[], datetime] | None = None


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class Emulator:
    """An in-memory VBS served from a background thread; a context manager (start on enter, stop on exit)."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        wall = self.config.wall or (lambda: datetime.now(timezone.utc))
        self.store = cycle.CycleStore(self.config.seed, self.config.create_delay, self.config.clock, wall)
        self.store.seed_history()
        self.tokens = auth.Tokens(self.config.seed, wall)
        self.auth = auth.Authenticator([self.tokens, auth.AkSk(self.config.seed, wall)])
        self.faults = Faults()
        self.faults.configure(
            {
                "latency": self.config.latency,
                "error_rate": self.config.error_rate,
                "throttle_rate": self.config.throttle_rate,
                "retry_after": self.config.retry_after,
                "script": self.config.script,
                "random_seed": self.config.random_seed,
            }
        )
        self.counts: Counter[str] = Counter()
        self.fired: Counter[str] = Counter()
        self.counts_lock = threading.Lock()
        self.log_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a background thread; returns at once (OSError if the address is taken)."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        handler = type("Handler", (_Handler,), {"emulator": self})
        server_class = _Server6 if ":" in self.config.host else ThreadingHTTPServer  # daemon threads, both
        self._server = server_class((self.config.host, self.config.port), handler)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="vbs-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the listening socket and wait for the serving thread; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            stopping = threading.Thread(target=server.shutdown, daemon=True)
            stopping.start()
            while stopping.is_alive():
                _wake(server)
                stopping.join(0.005)
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever_until_signal(self, on_ready: Callable[[], None] | None = None) -> int:
        """For `vbs emulator`: serve until SIGINT or SIGTERM, then stop cleanly and return 0 (main thread only).

        `on_ready` runs once the signal handlers are in place (print the banner there): a script that
        signals as soon as it reads the banner then always gets the clean stop.
        """
        stop = threading.Event()
        previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            if self._server is None:
                self.start()
            if on_ready is not None:
                on_ready()
            while not stop.wait(0.2):
                pass
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.log("vbs emulator stopped")
        return 0

    # -- facts for users and tests -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The port really bound (also after stop); RuntimeError before the first start."""
        if self._port is None:
            raise RuntimeError("the emulator has not been started")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    @property
    def project_id(self) -> str:
        return self.config.seed.project_id

    @property
    def token(self) -> str:
        """The seed's first token, for examples and tests."""
        return self.config.seed.tokens[0]

    def stats(self) -> dict[str, Any]:
        """What the emulator received: requests by "METHOD route", faults fired by kind, backups created."""
        created, held = self.store.counts()
        with self.counts_lock:
            return {
                "requests": dict(self.counts),
                "faults_fired": dict(self.fired),
                "backups_created": created,
                "backups": held,
                **self.store.more_stats(),
            }

    def reset_stats(self) -> None:
        """Zero the counters (the backups themselves stay)."""
        with self.counts_lock:
            self.counts.clear()
            self.fired.clear()
        self.store.reset_created()

    def reset(self) -> None:
        """Back to a fresh start: no backups but the seed's history, no faults, no issued tokens,
        counters at zero.

        For a test suite that shares one emulator: without it, a backup of the same name made by an
        earlier test can be mistaken for this test's.
        """
        self.store.clear()
        self.store.seed_history()
        self.faults.configure({})
        self.tokens.revoke_all()
        self.reset_stats()

    def count(self, key: str, fault: Step | None = None) -> None:
        with self.counts_lock:
            self.counts[key] += 1
            if fault is not None:
                self.fired[fault.fault] += 1

    def log(self, line: str) -> None:
        if self.config.log is not None:
            with self.log_lock:
                self.config.log.write(line + "\n")
                self.config.log.flush()


def _wake(server: ThreadingHTTPServer) -> None:
    """Connect once so the serving loop's select() returns now and sees the shutdown, not after its poll interval."""
    host, port = server.server_address[:2]
    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except OSError:
        pass


def banner(emu: Emulator) -> str:
    """What `vbs emulator` prints at start: the first line is the readiness signal scripts wait for."""
    seed = emu.config.seed
    lines = [
        f"vbs emulator listening on {emu.url}",
        f"project id: {seed.project_id}",
        f"tokens:     {', '.join(seed.tokens) or '(none)'}",
    ]
    for user in seed.users:
        lines.append(f"user:       {user.name} / {user.password} (domain {user.domain}), IAM URL {emu.url}/v3")
    for key in seed.access_keys:
        lines.append(f"access key: {key.access_key} / {key.secret_key}")
    for cred in seed.application_credentials:
        lines.append(f"app cred:   {cred.id} / {cred.secret} (name {cred.name}, user {cred.user})")
    if seed.users or seed.application_credentials:
        lines.append(f"catalog:    block storage in regions {', '.join(seed.regions)}")
    lines.append("volumes:")
    for volume in seed.volumes:
        extra = ", backups fail" if volume.fail_backups else ""
        lines.append(f"  {volume.id}  {volume.status}{extra}")
    lines.append("snapshots:")
    for snap in seed.snapshots:
        lines.append(f"  {snap.id}  of volume {snap.volume_id}")
    token = seed.tokens[0] if seed.tokens else "TOKEN"
    lines.append(f"try: export VBS_ENDPOINT={emu.url} VBS_PROJECT_ID={seed.project_id} VBS_TOKEN={token}")
    lines.append(f"control: {emu.url}/_emulator/health, /_emulator/stats, POST /_emulator/faults")
    return "\n".join(lines) + "\n"


def route_of(path: str) -> str:
    """The route name faults match on: backups, backups_detail, backup, auth_tokens, the cycle's
    routes (vbscli.emulator.cycle.ROUTES), volumes, volumes_detail or unknown."""
    if path.rstrip("/") == "/v3/auth/tokens":
        return "auth_tokens"
    volumes = VOLUMES_ROUTE.match(path)
    if volumes:
        return "volumes_detail" if volumes.group("rest") else "volumes"
    found = cycle.route_match(path)
    if found:
        return found[0]
    match = ROUTE.match(path)
    if not match:
        return "unknown"
    rest = match.group("rest")
    return "backups" if rest is None else "backups_detail" if rest == "detail" else "backup"


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator
    server_version = "vbs-emulator"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; Nagle would hold the body back

    def log_message(self, format: str, *args: Any) -> None:  # the emulator writes its own log line
        pass

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    # -- the request pipeline ----------------------------------------------------------------

    def _handle(self, method: str) -> None:
        emu = self.emulator
        self.started = time.monotonic()
        self.request_id = f"req-{uuid.uuid4()}"
        self.status_sent: int | None = None
        self.logged = False
        parts = urlsplit(self.path)
        self.logged_as = f"{method} {parts.path}"
        control = parts.path == "/_emulator" or parts.path.startswith("/_emulator/")
        route = route_of(parts.path)
        step: Step | None = None
        self.note = ""
        try:
            if not control:
                step = emu.faults.pick(method, route)
                emu.count(f"{method} {route}", step)
            try:
                body = self._read_body()
            except _BodyError as exc:
                self.close_connection = True
                self._send(exc.status, error_body(exc.status, str(exc)), {"Connection": "close"})
                return
            if control:
                self._control(method, parts.path, body)
                return
            if emu.faults.latency:
                time.sleep(emu.faults.latency)
            if step is not None:
                self.note = f" fault={step.fault}"
                if step.fault == "drop_before":
                    self._drop()
                    return
                if step.fault in ANSWERING:
                    status, data, content_type, headers = step.answer(self.request_id)
                    self._send_raw(status, data, content_type, headers)
                    return
                if step.fault == "delay":
                    time.sleep(1.0 if step.seconds is None else step.seconds)
            status, doc, headers = self._dispatch(method, route, parts, body)
            if step is not None and step.fault in SPOILING:
                self._spoil(step, status, doc, headers)
                return
            self._send(status, doc, headers)
        except Exception as exc:  # a bug must not leave the client hanging: answer 500 and say why in the log
            self.note += f" error={exc!r}"
            if self.status_sent is None:
                self.close_connection = True
                self._send(500, error_body(500), {"Connection": "close"})
            else:
                self.logged = False  # the answer was logged already: once more, with the error
        finally:
            self._log()

    def _log(self) -> None:
        """One line per request, written before the answer leaves (see _begin), so that the log
        follows the order in which a client saw its answers; once, unless an error came after."""
        if self.logged:
            return
        self.logged = True
        elapsed = (time.monotonic() - self.started) * 1000
        self.emulator.log(
            f'{self.client_address[0]} "{self.logged_as}" {self.status_sent or "-"} '
            f"{self.request_id} {elapsed:.1f}ms{self.note}"
        )

    def _read_body(self) -> bytes:
        """The request body, from Content-Length or chunked transfer coding, at most MAX_BODY bytes."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size_line = self.rfile.readline(1024).split(b";")[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    raise _BodyError(400, "Malformed chunked request body.") from None
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise _BodyError(413, "The request body is too large.")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        text = self.headers.get("Content-Length")
        if text is None:
            return b""
        try:
            length = int(text)
            if length < 0:
                raise ValueError
        except ValueError:
            raise _BodyError(400, f"Invalid Content-Length {text!r}.") from None
        if length > MAX_BODY:
            raise _BodyError(413, "The request body is too large.")
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str, route: str, parts: SplitResult, body: bytes) -> Answer:
        emu = self.emulator
        base = f"http://{self.headers.get('Host') or emu.url.removeprefix('http://')}"
        if route == "unknown":
            return 404, error_body(404, f"The resource could not be found: {parts.path}"), {}
        allowed = ALLOWED[route]
        not_allowed: Answer = (
            405,
            error_body(405, f"Method {method} is not allowed here; use {' or '.join(allowed)}."),
            {"Allow": ", ".join(allowed)},
        )
        if route == "auth_tokens":
            if method not in allowed:
                return not_allowed
            doc = _json(body)
            if doc is None:
                return (
                    400,
                    {"error": {"code": 400, "message": "The request body is not JSON.", "title": "Bad Request"}},
                    {},
                )
            return keystone.login(emu.config.seed, emu.tokens, doc, base)
        ok, reason = emu.auth.check(method, auth.target_of(self.path), dict(self.headers.items()), body)
        if not ok:
            return 401, error_body(401, reason), {}
        found = cycle.route_match(parts.path)
        match = found[1] if found else ROUTE.match(parts.path) or VOLUMES_ROUTE.match(parts.path)
        assert match is not None
        if match.group("project") != emu.project_id:
            return (
                403,
                error_body(
                    403,
                    "Policy doesn't allow this operation: the project in the URL is not "
                    "the project of the credentials.",
                ),
                {},
            )
        if method not in allowed:
            return not_allowed
        headers = self._version_headers()
        if route in ("volumes", "volumes_detail"):
            query = dict(parse_qsl(parts.query))
            status, answer = emu.store.volume_listing(query, base, parts.path, detail=route == "volumes_detail")
            return status, answer, headers
        if route in cycle.ROUTES or (method, route) in cycle.HANDLED:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            status, answer = cycle.dispatch(
                emu.store,
                method,
                route,
                match.group("rest"),
                dict(parse_qsl(parts.query)),
                body,
                content_type,
                cycle.microversion(self.headers.get("OpenStack-API-Version")),
                base,
                parts.path,
            )
            return status, answer, {**headers, **cycle.overlimit_headers(answer)}
        if route == "backups" and method == "POST":
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return (
                    415,
                    error_body(415, f"Unsupported Content-Type {content_type or '(none)'!r}; send application/json."),
                    headers,
                )
            doc = _json(body)
            if doc is None:
                return (
                    400,
                    {
                        "badRequest": {
                            "code": "VolumeBackup.0001",
                            "message": "Malformed request body: the body is not valid JSON.",
                        }
                    },
                    headers,
                )
            status, answer = emu.store.create(doc, base)
            return status, answer, {**headers, **cycle.overlimit_headers(answer)}
        if route == "backup":
            status, answer = emu.store.show(match.group("rest"), base)
            return status, answer, headers
        query = dict(parse_qsl(parts.query))
        status, answer = emu.store.listing(query, base, parts.path, detail=route == "backups_detail")
        return status, answer, headers

    def _version_headers(self) -> dict[str, str]:
        """Echo the microversion asked for (or the base one), as the service does."""
        asked = (self.headers.get("OpenStack-API-Version") or "").strip().lower()
        version = asked if API_VERSION.match(asked) else "volume 3.0"
        return {"OpenStack-API-Version": version, "Vary": "OpenStack-API-Version"}

    def _control(self, method: str, path: str, body: bytes) -> None:
        """The emulator's own endpoints: never authenticated, never faulted, not counted."""
        emu = self.emulator
        if path == "/_emulator/health" and method == "GET":
            self._send(200, {"status": "ok", "pid": os.getpid()})  # `vbs emulator stop` checks whom it stops
        elif path == "/_emulator/stats" and method == "GET":
            self._send(200, emu.stats())
        elif path == "/_emulator/reset-stats" and method == "POST":
            emu.reset_stats()
            self._send(200, emu.stats())
        elif path == "/_emulator/reset" and method == "POST":
            emu.reset()
            self._send(200, emu.stats())
        elif path == "/_emulator/revoke-tokens" and method == "POST":
            self._send(200, {"revoked": emu.tokens.revoke_all()})
        elif path == "/_emulator/faults" and method == "GET":
            self._send(200, emu.faults.describe())
        elif path == "/_emulator/faults" and method == "POST":
            doc = _json(body) if body.strip() else {}
            if doc is None:
                self._send(400, {"error": {"code": 400, "message": "The fault configuration is not JSON."}})
                return
            try:
                emu.faults.configure(doc)
            except FaultError as exc:
                self._send(400, {"error": {"code": 400, "message": str(exc)}})
                return
            self._send(200, emu.faults.describe())
        else:
            self._send(
                404,
                {
                    "error": {
                        "code": 404,
                        "message": f"No emulator endpoint {method} {path}; endpoints: "
                        "GET health, GET stats, POST reset-stats, POST reset, "
                        "GET/POST faults, POST revoke-tokens.",
                    }
                },
            )

    # -- faults that spoil a real answer -----------------------------------------------------

    def _spoil(self, step: Step, status: int, doc: Any, headers: dict[str, str]) -> None:
        """The service did its work (a create really created); now the answer goes wrong."""
        data = json.dumps(doc).encode()
        status = step.status or status
        headers = {**headers, **step.headers()}
        if step.fault == "drop_after":
            self._drop()
        elif step.fault == "truncated":
            self._send_raw(status, data[: max(1, len(data) // 2)], "application/json", headers)
        elif step.fault == "slow_body":
            interval = 1.0 if step.seconds is None else step.seconds
            self._begin(status, "application/json", len(data), headers)
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(interval)
            except OSError:
                self.close_connection = True
        elif step.fault == "huge_body":
            self._begin(status, "application/json", None, headers)
            try:
                sent = 0
                while sent < HUGE_LIMIT:
                    self.wfile.write(HUGE_CHUNK)
                    sent += len(HUGE_CHUNK)
            except OSError:
                pass
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection without a word; the client sees the connection lost, not an answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- writing answers ---------------------------------------------------------------------

    def _begin(self, status: int, content_type: str, length: int | None, headers: dict[str, str] | None = None) -> None:
        """Status line and headers; no length means the body ends when the connection closes."""
        self.send_response(status)
        self.status_sent = status
        self.send_header("Content-Type", content_type)
        self.send_header("X-Openstack-Request-Id", self.request_id)
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self._log()  # before the headers are flushed: the client cannot have the answer yet
        self.end_headers()

    def _send_raw(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self._begin(status, content_type, len(data), headers)
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _send(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if doc is None else json.dumps(doc).encode()  # None: an answer without a body (202 to a DELETE)
        self._send_raw(status, data, "application/json", headers)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
