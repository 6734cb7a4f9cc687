"""A VBS stand-in over raw sockets, for faults that only a socket can make.

It does the service's work (a create really creates, look-ups answer truthfully) and then breaks the
create's answer as scripted: reset after the headers, a body cut short, a body that stalls, a 202
and nothing after it. `responses` or a patched session cannot produce these: the HTTP library must
meet them on a real connection.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import uuid
from datetime import datetime, timezone
from email.utils import formatdate
from typing import TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

PROJECT = "0123456789abcdef0123456789abcdef"

LONGER = ("reset_after_headers", "cut_body", "stall_body", "headers_then_close")
"""Faults that promise more body than they send."""
FAULTS = ("ok", "reset_after_headers", "cut_body", "stall_body", "status_then_close", "headers_then_close")


L = TypeVar("L", bound="_Listener")


class _Listener:
    """A server on 127.0.0.1 (port 0) that handles each connection in a thread of its own and closes it
    after; it records "METHOD path" of every request, for `count`."""

    def __init__(self, backlog: int) -> None:
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.startswith(prefix))

    def __enter__(self: L) -> L:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.sock.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle_and_close, args=(conn,), daemon=True).start()

    def _handle_and_close(self, conn: socket.socket) -> None:
        try:
            self._handle(conn)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError


class FaultServer(_Listener):
    """Listens on 127.0.0.1 (port 0). `create_faults` apply to successive creates, `lookup_faults` to
    successive look-ups (GET .../backups/detail); once a list runs out, answers are normal."""

    def __init__(self, create_faults: list[str] | None = None, lookup_faults: list[str] | None = None) -> None:
        super().__init__(backlog=16)
        self.create_faults = list(create_faults or [])
        self.lookup_faults = list(lookup_faults or [])
        self.backups: list[dict] = []

    @property
    def env(self) -> dict[str, str]:
        return {"VBS_ENDPOINT": self.url, "VBS_PROJECT_ID": PROJECT, "VBS_TOKEN": "tok-socket-secret"}

    # -- serving -------------------------------------------------------------------------------

    def _handle(self, conn: socket.socket) -> None:
        head, body = _read_message(conn)
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        path = urlsplit(target).path
        with self.lock:
            self.requests.append(f"{method} {path}")
        if method == "POST" and path == f"/v3/{PROJECT}/backups":
            self._create(conn, body)
        elif method == "GET" and path == f"/v3/{PROJECT}/backups/detail":
            fault = self._next(self.lookup_faults)
            query = dict(parse_qsl(urlsplit(target).query))
            with self.lock:
                found = [
                    b
                    for b in self.backups
                    if all(b.get(k) == unquote(v) for k, v in query.items() if k in ("name", "volume_id"))
                ]
            self._answer(conn, 200, {"backups": found}, fault)
        elif method == "GET" and path.startswith(f"/v3/{PROJECT}/backups/"):
            backup_id = path.rsplit("/", 1)[1]
            with self.lock:
                found = [b for b in self.backups if b["id"] == backup_id]
            if found:
                self._answer(conn, 200, {"backup": found[0]}, "ok")
            else:
                self._answer(conn, 404, {"itemNotFound": {"code": 404, "message": "not found"}}, "ok")
        else:
            self._answer(conn, 404, {"itemNotFound": {"code": 404, "message": "no route"}}, "ok")

    def _next(self, faults: list[str]) -> str:
        with self.lock:
            return faults.pop(0) if faults else "ok"

    def _create(self, conn: socket.socket, body: bytes) -> None:
        doc = json.loads(body)["backup"]
        backup = {
            "id": str(uuid.uuid4()),
            "name": doc.get("name"),
            "volume_id": doc["volume_id"],
            "snapshot_id": doc["snapshot_id"],
            "status": "available",
            "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "links": [],
        }
        with self.lock:
            self.backups.append(backup)  # the work is done; only the answer may go wrong
        answer = {"backup": {"id": backup["id"], "name": backup["name"], "links": []}}
        self._answer(conn, 202, answer, self._next(self.create_faults))

    def _answer(self, conn: socket.socket, status: int, doc: dict, fault: str) -> None:
        data = json.dumps(doc).encode()
        reason = {200: "OK", 202: "Accepted", 404: "Not Found"}[status]
        length = 300 if fault in LONGER else len(data)
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n"
            f"Date: {formatdate(usegmt=True)}\r\nX-Openstack-Request-Id: req-socket\r\nConnection: close\r\n\r\n"
        ).encode()
        self._spoil(conn, head, data, fault, self.stop)

    @staticmethod
    def _spoil(conn: socket.socket, head: bytes, data: bytes, fault: str, stop: threading.Event) -> None:
        """Send an answer (`head` ends with its blank line), or break it as `fault` says."""
        if fault == "ok":
            conn.sendall(head + data)
        elif fault == "status_then_close":
            conn.sendall(head.split(b"\r\n", 1)[0] + b"\r\n")
        elif fault == "headers_then_close":
            conn.sendall(head)
        elif fault == "reset_after_headers":
            conn.sendall(head)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
        elif fault == "cut_body":
            conn.sendall(head + data[: min(22, len(data) // 2)])
        elif fault == "stall_body":
            conn.sendall(head + data[: min(22, len(data) // 2)])
            stop.wait(15)
        else:
            raise ValueError(f"unknown fault {fault!r}")


class FaultProxy(_Listener):
    """A raw socket proxy in front of a real service (the emulator): every request is passed on and
    answered truthfully, but the answers of requests matching a rule are spoiled at the socket.

    Rules are (method, path regex, fault), each applied once, in order, to the first request that
    matches; `drop_before` closes the connection without passing the request on (surely not
    processed); the other faults let the service do the work first, then break its answer as
    FaultServer does. It reaches every call (snapshots, deletes, restores, listings, logins), which
    FaultServer, a stand-in for the create alone, does not.
    """

    def __init__(self, upstream: str, rules: list[tuple[str, str, str]] | None = None) -> None:
        super().__init__(backlog=64)
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules = [(method, re.compile(path), fault) for method, path, fault in rules or []]
        self.spoiled: list[str] = []

    def _fault_for(self, method: str, path: str) -> str:
        with self.lock:
            self.requests.append(f"{method} {path}")
            for n, (want, pattern, fault) in enumerate(self.rules):
                if want in ("*", method) and pattern.search(path):
                    del self.rules[n]
                    self.spoiled.append(f"{fault} {method} {path}")
                    return fault
        return "ok"

    def _handle(self, conn: socket.socket) -> None:
        head, body = _read_message(conn)
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        fault = self._fault_for(method, urlsplit(target).path)
        if fault == "drop_before":
            return
        answer_head, answer_body = self._pass_on(_with_header(head, "Connection", "close"), body)
        answer_head = _with_header(answer_head, "Connection", "close")
        if fault == "drop_after":
            return
        if fault in LONGER and len(answer_body) < 2:
            answer_head = _with_header(answer_head, "Content-Length", "300")  # an empty body cannot be cut
        FaultServer._spoil(conn, answer_head + b"\r\n\r\n", answer_body, fault, self.stop)

    def _pass_on(self, head: bytes, body: bytes) -> tuple[bytes, bytes]:
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall(head + b"\r\n\r\n" + body)
            return _read_message(upstream)


def _read_message(conn: socket.socket) -> tuple[bytes, bytes]:
    """(head without the blank line, body) of one HTTP message with a Content-Length (or none)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise OSError("closed before the headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while length is not None and len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def _with_header(head: bytes, name: str, value: str) -> bytes:
    lines = [line for line in head.split(b"\r\n") if line.split(b":", 1)[0].strip().lower() != name.lower().encode()]
    return b"\r\n".join([*lines, f"{name}: {value}".encode()])
