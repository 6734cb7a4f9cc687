"""The HTTP side of the emulator: one request from bytes to the store's answer and back, with the
faults asked for, request ids, the request log and the control endpoints under /_emulator/.

Which call a request is, and the store's answer to it, are vbscli.emulator.api's; the broken answers
faults ask for are made here (vbscli.emulator.faults says which).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from vbscli.emulator import api, auth, keystone
from vbscli.emulator.answers import error_body
from vbscli.emulator.faults import ANSWERING, SPOILING, FaultError, Step

MAX_BODY = 1024 * 1024
HUGE_CHUNK = b'{"backups": [' + b'{"id": "00000000-0000-4000-8000-000000000000", "name": "x"}, ' * 1024
HUGE_LIMIT = 1024**3  # a huge body stops after 1 GiB if the client never hangs up

Reply = tuple[int, Any, dict[str, str]]
"""(status, JSON document, headers)."""


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Handler(BaseHTTPRequestHandler):
    emulator: Any
    """The vbscli.emulator.server.Emulator served (set on a subclass made per emulator)."""
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
        route = api.route_of(parts.path)
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

    def _dispatch(self, method: str, route: str, parts: SplitResult, body: bytes) -> Reply:
        emu = self.emulator
        base = f"http://{self.headers.get('Host') or emu.url.removeprefix('http://')}"
        found = api.match(parts.path)
        if found is None:
            return 404, error_body(404, f"The resource could not be found: {parts.path}"), {}
        allowed = api.ALLOWED[route]
        not_allowed: Reply = (
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
        match = found[1]
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
        return api.answer(
            emu.store,
            method,
            route,
            match.groupdict().get("rest"),
            dict(parse_qsl(parts.query)),
            body,
            (self.headers.get("Content-Type") or "").split(";")[0].strip().lower(),
            self.headers.get("OpenStack-API-Version"),
            base,
            parts.path,
        )

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
