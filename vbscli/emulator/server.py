"""The HTTP side of the emulator: routing, authentication, faults, request ids and the request log."""

from __future__ import annotations

import json
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
from urllib.parse import parse_qsl, urlsplit

from vbscli.emulator import auth
from vbscli.emulator.faults import Faults, FaultError, Step, error_body
from vbscli.emulator.seed import Seed, demo_seed
from vbscli.emulator.state import Store

ROUTE = re.compile(r"^/v3/(?P<project>[^/]+)/backups(?:/(?P<rest>[^/]+))?/?$")
MAX_BODY = 1024 * 1024


@dataclass
class EmulatorConfig:
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


class Emulator:
    """An in-memory VBS on 127.0.0.1, served from a background thread; a context manager."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        wall = self.config.wall or (lambda: datetime.now(timezone.utc))
        self.store = Store(self.config.seed, self.config.create_delay, self.config.clock, wall)
        self.tokens = auth.Tokens(self.config.seed, wall)
        self.auth = auth.Authenticator([self.tokens, auth.AkSk(self.config.seed, wall)])
        self.faults = Faults()
        self.faults.configure({
            "latency": self.config.latency, "error_rate": self.config.error_rate,
            "throttle_rate": self.config.throttle_rate, "retry_after": self.config.retry_after,
            "script": self.config.script, "seed": self.config.random_seed,
        })
        self.counts: Counter[str] = Counter()
        self.fired: Counter[str] = Counter()
        self.counts_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> Emulator:
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer((self.config.host, self.config.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="vbs-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever_until_signal(self) -> int:
        """For `vbs emulator`: serve until SIGINT or SIGTERM, then stop cleanly and return 0."""
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        if self._server is None:
            self.start()
        while not stop.wait(0.5):
            pass
        self.stop()
        self.log("vbs emulator stopped")
        return 0

    # -- facts for users and tests -----------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "the emulator is not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def project_id(self) -> str:
        return self.config.seed.project_id

    @property
    def token(self) -> str:
        return self.config.seed.tokens[0]

    def stats(self) -> dict[str, Any]:
        with self.counts_lock:
            return {"requests": dict(self.counts), "faults_fired": dict(self.fired),
                    "backups_created": self.store.created, "backups": len(self.store.backups)}

    def reset_stats(self) -> None:
        with self.counts_lock:
            self.counts.clear()
            self.fired.clear()
        self.store.created = 0

    def log(self, line: str) -> None:
        if self.config.log is not None:
            self.config.log.write(line + "\n")
            self.config.log.flush()


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
    lines.append("volumes:")
    for volume in seed.volumes:
        extra = ", backups fail" if volume.fail_backups else ""
        lines.append(f"  {volume.id}  {volume.status}{extra}")
    lines.append("snapshots:")
    for snap in seed.snapshots:
        lines.append(f"  {snap.id}  of volume {snap.volume_id}")
    token = seed.tokens[0] if seed.tokens else "TOKEN"
    lines.append(f"try: export VBS_ENDPOINT={emu.url} VBS_PROJECT_ID={seed.project_id} VBS_TOKEN={token}")
    return "\n".join(lines) + "\n"


class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator
    server_version = "vbs-emulator"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the emulator writes its own log
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- the request pipeline ----------------------------------------------------------------

    def _handle(self, method: str) -> None:
        emu = self.emulator
        started = time.monotonic()
        self.request_id = f"req-{uuid.uuid4()}"
        self.status_sent = 0
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, {"badRequest": {"code": 413, "message": "Request body too large."}})
            return
        body = self.rfile.read(length) if length else b""
        route = self._route(parts.path)
        if parts.path.startswith("/_emulator/"):
            self._control(method, parts.path, body)
            return
        with emu.counts_lock:
            emu.counts[f"{method} {route}"] += 1
        step = emu.faults.pick(method, route)
        if emu.faults.latency:
            time.sleep(emu.faults.latency)
        try:
            if step is not None:
                with emu.counts_lock:
                    emu.fired[step.fault] += 1
                if self._fault_before(step, route):
                    return
            status, doc, headers = self._dispatch(method, route, parts, body)
            if step is not None and self._fault_after(step, status, doc, headers):
                return
            self._send(status, doc, headers)
        finally:
            elapsed = (time.monotonic() - started) * 1000
            emu.log(f'{self.client_address[0]} "{method} {parts.path}" {self.status_sent or "-"} '
                    f"{self.request_id} {elapsed:.1f}ms" + (f" fault={step.fault}" if step else ""))

    def _route(self, path: str) -> str:
        if path == "/v3/auth/tokens":
            return "auth_tokens"
        match = ROUTE.match(path)
        if not match:
            return "unknown"
        rest = match.group("rest")
        return "backups" if rest is None else "backups_detail" if rest == "detail" else "backup"

    def _dispatch(self, method: str, route: str, parts: Any, body: bytes) -> tuple[int, dict, dict]:
        emu = self.emulator
        base = f"http://{self.headers.get('Host') or f'{emu.config.host}:{emu.port}'}"
        if route == "unknown":
            return 404, {"itemNotFound": {"code": 404, "message": f"No route for {parts.path}."}}, {}
        if route == "auth_tokens":
            if method != "POST":
                return 405, {"error": {"code": 405, "message": "Method not allowed."}}, {"Allow": "POST"}
            doc = _json(body)
            if doc is None:
                return 400, {"error": {"code": 400, "message": "The request body is not JSON."}}, {}
            return auth.login(emu.config.seed, emu.tokens, doc)
        ok, reason = emu.auth.check(method, auth.target_of(self.path), dict(self.headers.items()), body)
        if not ok:
            return 401, {"unauthorized": {"code": 401, "message": reason}}, {}
        match = ROUTE.match(parts.path)
        assert match is not None
        if match.group("project") != emu.project_id:
            return 403, {"forbidden": {"code": 403, "message": "The project in the URL is not the "
                                       "project of the credentials."}}, {}
        allowed = {"backups": ("GET", "POST"), "backups_detail": ("GET",), "backup": ("GET",)}[route]
        if method not in allowed:
            return 405, {"badRequest": {"code": 405, "message": "Method not allowed."}}, {"Allow": ", ".join(allowed)}
        query = dict(parse_qsl(parts.query))
        if route == "backups" and method == "POST":
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return 415, {"badMediaType": {"code": 415, "message": "Unsupported Content-Type: "
                                              f"{content_type or 'none'}; use application/json."}}, {}
            doc = _json(body)
            if doc is None:
                return 400, {"badRequest": {"code": "VolumeBackup.0001", "message": "Malformed request body: "
                                            "the body is not valid JSON."}}, {}
            status, answer = emu.store.create(doc, base)
            return status, answer, {}
        if route == "backup":
            status, answer = emu.store.show(match.group("rest"), base)
            return status, answer, {}
        status, answer = emu.store.listing(query, base, parts.path, detail=route == "backups_detail")
        return status, answer, {}

    def _control(self, method: str, path: str, body: bytes) -> None:
        """The emulator's own endpoints: never authenticated, never faulted."""
        emu = self.emulator
        if path == "/_emulator/health" and method == "GET":
            self._send(200, {"status": "ok"})
        elif path == "/_emulator/stats" and method == "GET":
            self._send(200, emu.stats())
        elif path == "/_emulator/reset-stats" and method == "POST":
            emu.reset_stats()
            self._send(200, emu.stats())
        elif path == "/_emulator/revoke-tokens" and method == "POST":
            self._send(200, {"revoked": emu.tokens.revoke_all()})
        elif path == "/_emulator/faults" and method == "GET":
            self._send(200, emu.faults.describe())
        elif path == "/_emulator/faults" and method == "POST":
            try:
                emu.faults.configure(_json(body) or {})
            except FaultError as exc:
                self._send(400, {"error": {"code": 400, "message": str(exc)}})
                return
            self._send(200, emu.faults.describe())
        else:
            self._send(404, {"error": {"code": 404, "message": f"No emulator endpoint {method} {path}."}})

    # -- faults ------------------------------------------------------------------------------

    def _fault_before(self, step: Step, route: str) -> bool:
        """Faults that answer instead of the service; True if the request is finished."""
        kind = step.fault
        headers = {"Retry-After": _seconds(step.retry_after)} if step.retry_after is not None else {}
        if kind == "delay":
            time.sleep(step.seconds)
            return False
        if kind == "drop_before":
            self._drop()
            return True
        if kind == "status":
            status = step.status or 503
            self._send(status, step.body if step.body is not None else error_body(status), headers)
            return True
        if kind == "throttle":
            self._send(429, {"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached",
                             "request_id": self.request_id}, headers)
            return True
        if kind == "overlimit":
            doc: dict[str, Any] = {"overLimit": {"code": 413, "message": "Request rate limit exceeded."}}
            if step.retry_after is not None:
                doc["overLimit"]["retryAfter"] = _seconds(step.retry_after)
            self._send(413, doc, headers)
            return True
        if kind == "html":
            page = (b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
                    b"</center></body></html>")
            self._send_raw(step.status or 502, page, "text/html")
            return True
        if kind == "empty":
            self._send_raw(step.status or 503, b"", "application/json")
            return True
        return False

    def _fault_after(self, step: Step, status: int, doc: dict, headers: dict[str, str]) -> bool:
        """Faults that let the service do its work and then spoil the answer; True if answered."""
        kind = step.fault
        data = json.dumps(doc).encode()
        if kind == "drop_after":
            self._drop()
            return True
        if kind == "truncated":
            self._send_raw(step.status or status, data[: max(1, len(data) // 2)], "application/json", headers)
            return True
        if kind == "slow_body":
            self._begin(step.status or status, "application/json", len(data), headers)
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(step.seconds or 1.0)
            except OSError:
                pass
            self.close_connection = True
            return True
        if kind == "huge_body":
            self._begin(step.status or 200, "application/json", None, headers)
            chunk = b'{"backup": {"id": "' + b"x" * 65536
            try:
                for _ in range(16 * 1024):  # at most 1 GiB, or until the client hangs up
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
            return True
        return False

    # -- writing answers ---------------------------------------------------------------------

    def _drop(self) -> None:
        """Close the connection without a word (RST, so the client sees the connection lost)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _begin(self, status: int, content_type: str, length: int | None, headers: dict[str, str] | None = None) -> None:
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
        self.end_headers()

    def _send_raw(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self._begin(status, content_type, len(data), headers)
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _send(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(doc).encode(), "application/json", headers)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
