"""The emulator as a whole: its configuration, the server it runs in a thread (or in the foreground
until a signal), the counters tests read, and the banner `vbs emulator` prints.

Requests are handled by vbscli.emulator.handler; the service's rules live in the store
(vbscli.emulator.cycle) and the fault shapes in vbscli.emulator.faults.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from typing import Any, TextIO

from vbscli.emulator import auth, cycle
from vbscli.emulator.faults import Faults, Step
from vbscli.emulator.handler import Handler
from vbscli.emulator.seed import Seed, demo_seed


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
        handler = type("Handler", (Handler,), {"emulator": self})
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
