"""A VBS stand-in over raw sockets, for faults that only a socket can make.

It does the service's work (a create really creates, look-ups answer truthfully) and then breaks the
create's answer as scripted: reset after the headers, a body cut short, a body that stalls, a 202
and nothing after it. `responses` or a patched session cannot produce these: the HTTP library must
meet them on a real connection.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import uuid
from datetime import datetime, timezone
from email.utils import formatdate
from urllib.parse import parse_qsl, unquote, urlsplit

PROJECT = "0123456789abcdef0123456789abcdef"

FAULTS = ("ok", "reset_after_headers", "cut_body", "stall_body", "status_then_close", "headers_then_close")


class FaultServer:
    """Listens on 127.0.0.1 (port 0). `create_faults` apply to successive creates, `lookup_faults` to
    successive look-ups (GET .../backups/detail); once a list runs out, answers are normal."""

    def __init__(self, create_faults: list[str] | None = None, lookup_faults: list[str] | None = None) -> None:
        self.create_faults = list(create_faults or [])
        self.lookup_faults = list(lookup_faults or [])
        self.backups: list[dict] = []
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {"VBS_ENDPOINT": self.url, "VBS_PROJECT_ID": PROJECT, "VBS_TOKEN": "tok-socket-secret"}

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.startswith(prefix))

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.sock.close()

    # -- serving -------------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            method, target, body = self._read_request(conn)
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
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

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
        length = 300 if fault in ("reset_after_headers", "cut_body", "stall_body", "headers_then_close") else len(data)
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n"
            f"Date: {formatdate(usegmt=True)}\r\nX-Openstack-Request-Id: req-socket\r\nConnection: close\r\n\r\n"
        ).encode()
        if fault == "ok":
            conn.sendall(head + data)
        elif fault == "status_then_close":
            conn.sendall(f"HTTP/1.1 {status} {reason}\r\n".encode())
        elif fault == "headers_then_close":
            conn.sendall(head)
        elif fault == "reset_after_headers":
            conn.sendall(head)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
        elif fault == "cut_body":
            conn.sendall(head + data[:22])
        elif fault == "stall_body":
            conn.sendall(head + data[:22])
            self.stop.wait(15)
        else:
            raise ValueError(f"unknown fault {fault!r}")

    @staticmethod
    def _read_request(conn: socket.socket) -> tuple[str, str, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                raise OSError("closed before the headers")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return method, target, body
