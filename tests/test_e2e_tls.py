"""TLS as a user meets it: a real HTTPS server on 127.0.0.1 with a certificate of its own CA."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import run_vbs

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT, "--name", "tls", "-o", "table")
ANSWER = {"backup": {"id": "bb089eba-6b38-41c8-85a4-2b94fad7d570", "name": "tls", "links": []}}


class _Created(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(ANSWER).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Created)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def env_for(url: str) -> dict[str, str]:
    return {"VBS_ENDPOINT": url, "VBS_PROJECT_ID": "p1", "VBS_TOKEN": "tls-token"}


def test_unknown_certificate_is_refused_in_one_line(https):
    url, _ = https
    run = run_vbs(*CREATE, env=env_for(url))
    assert run.exit_code == 5 and run.stdout == ""
    assert run.stderr.startswith(f"vbs: error: TLS connection to {url} failed: ")
    assert "--ca-bundle" in run.stderr and len(run.stderr.splitlines()) == 1


def test_ca_bundle_makes_it_trusted(https):
    url, cert = https
    run = run_vbs(*CREATE, "--ca-bundle", str(cert), env=env_for(url))
    assert run.exit_code == 0, run.stderr
    assert "bb089eba-6b38-41c8-85a4-2b94fad7d570" in run.stdout and run.stderr == ""
    via_env = run_vbs(*CREATE, env={**env_for(url), "VBS_CA_BUNDLE": str(cert)})
    assert via_env.exit_code == 0


def test_insecure_works_and_warns(https):
    url, _ = https
    run = run_vbs(*CREATE, "--insecure", env=env_for(url))
    assert run.exit_code == 0
    assert run.stderr == f"vbs: warning: TLS certificate verification is off for {url}\n"
