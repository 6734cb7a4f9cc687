"""Fixtures for the emulator's own tests: an emulator per test on 127.0.0.1, with time in the test's hands."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from vbscli.emulator import Emulator, EmulatorConfig, demo_seed

PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "demo-token"
VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
IN_USE, IN_USE_SNAP = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d02"
FAILING, FAILING_SNAP = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d03"
BROKEN, BROKEN_SNAP = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a04", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d04"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
START = datetime(2026, 11, 28, 10, 0, 0, tzinfo=timezone.utc)


class Clock:
    """Monotonic and wall time that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.now - 1000.0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Log:
    """A log stream a test can wait on without sleeping."""

    def __init__(self) -> None:
        self.text = ""
        self.changed = threading.Condition()

    def write(self, text: str) -> int:
        with self.changed:
            self.text += text
            self.changed.notify_all()
        return len(text)

    def flush(self) -> None:
        pass

    def wait_for(self, part: str, timeout: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: part in self.text, timeout)


class Api:
    """A plain HTTP caller for one emulator: what a client would send, nothing more."""

    def __init__(self, emu: Emulator, token: str | None = TOKEN) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.token = token

    @property
    def base(self) -> str:
        return f"{self.emu.url}/v3/{self.emu.project_id}"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"X-Auth-Token": self.token} if self.token else {}
        return {**headers, **(extra or {})}

    def create(self, volume: str = VOLUME, snapshot: str = SNAPSHOT, **fields: Any) -> requests.Response:
        body = {"backup": {"volume_id": volume, "snapshot_id": snapshot, **fields}}
        return self.session.post(f"{self.base}/backups", json=body, headers=self.headers(), timeout=5)

    def post(self, path: str, data: bytes | str, content_type: str | None = "application/json") -> requests.Response:
        extra = {"Content-Type": content_type} if content_type else {}
        return self.session.post(f"{self.base}{path}", data=data, headers=self.headers(extra), timeout=5)

    def get(self, path: str, **params: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base}{path}"
        return self.session.get(url, params=params or None, headers=self.headers(), timeout=5)

    def control(self, method: str, name: str, body: Any = None) -> requests.Response:
        return self.session.request(method, f"{self.emu.url}/_emulator/{name}", json=body, timeout=5)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def start(clock: Clock, log: Log) -> Iterator[Callable[..., Emulator]]:
    """start(**config) -> a running emulator (demo seed, injected clocks, no create delay by default)."""
    running: list[Emulator] = []

    def _start(**config: Any) -> Emulator:
        settings: dict[str, Any] = {
            "port": 0,
            "seed": demo_seed(),
            "create_delay": 0.0,
            "clock": clock,
            "wall": clock.wall,
            "log": log,
        }
        settings.update(config)
        emu = Emulator(EmulatorConfig(**settings)).start()
        running.append(emu)
        return emu

    yield _start
    for emu in running:
        emu.stop()


@pytest.fixture
def emu(start: Callable[..., Emulator]) -> Emulator:
    return start()


@pytest.fixture
def api(emu: Emulator) -> Iterator[Api]:
    caller = Api(emu)
    yield caller
    caller.close()
