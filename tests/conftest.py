"""Shared fixtures: an isolated environment for every test, test profiles, and the secret guard."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SECRETS, assert_no_secrets

VOLUME = "c5834fe1-577f-462e-9bf3-1b158e1dde9c"
SNAPSHOT = "251f910a-a2bd-443e-a77a-90a3dbd26b7b"
PROJECT = "648bba9ba87e4b3f8484d0fc60e2e6cc"
TOKEN = "tok-PROD-5b3c9e1a-secret"
OTHER_TOKEN = "tok-LAB-77aa21-secret"
SECRETS.update({TOKEN, OTHER_TOKEN, "demo-token", "demo-password", "demo-secret-key"})


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads the real home directory or inherits VBS_* settings or proxies."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    for name in list(os.environ):
        if (
            name.startswith(("VBS_", "OS_"))
            or name.lower().endswith("_proxy")
            or name
            in (
                "NO_COLOR",
                "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE",
            )
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # One attempt per request unless a test is about retrying: no test waits for a backoff.
    monkeypatch.setenv("VBS_MAX_ATTEMPTS", "1")
    yield home


@dataclass
class Profiles:
    path: Path
    endpoint: str

    def write(self, text: str, mode: int = 0o600) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(text)
        os.chmod(self.path, mode)
        return self.path


def profile_yaml(endpoint: str) -> str:
    return f"""\
default: prod
profiles:
  prod:
    endpoint: {endpoint}
    project_id: {PROJECT}
    auth: {{type: token, token: "{TOKEN}"}}
    verify: true
    connect_timeout: 5
    read_timeout: 10
  lab:
    endpoint: {endpoint}
    project_id: 0123456789abcdef0123456789abcdef
    auth: {{type: token, token: "{OTHER_TOKEN}"}}
"""


@pytest.fixture
def profiles(isolated_env: Path) -> Profiles:
    """A profile file at the default location; `write()` replaces its content."""
    return Profiles(isolated_env / ".config" / "vbs" / "config.yaml", "https://evs.test.example")


@pytest.fixture
def prod_profile(profiles: Profiles) -> Profiles:
    profiles.write(profile_yaml(profiles.endpoint))
    return profiles


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """The guard: a test fails if a known secret shows up in anything it printed."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or report.failed:
        return
    captured = "\n".join(text for _, text in report.sections)
    try:
        assert_no_secrets(captured, "captured output")
    except AssertionError as exc:
        report.outcome = "failed"
        report.longrepr = str(exc)


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@dataclass
class Service:
    """An emulator on 127.0.0.1 for end-to-end tests, with the environment that points vbs at it."""

    emu: Any

    @property
    def env(self) -> dict[str, str]:
        return {"VBS_ENDPOINT": self.emu.url, "VBS_PROJECT_ID": self.emu.project_id, "VBS_TOKEN": self.emu.token}

    def faults(self, **config: Any) -> None:
        self.emu.faults.configure(config)

    def created(self) -> int:
        return self.emu.stats()["backups_created"]

    def requests(self, key: str) -> int:
        return self.emu.stats()["requests"].get(key, 0)


def _running() -> Iterator[Any]:
    from vbscli.emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(port=0, create_delay=0.0)) as emu:
        yield emu


def _reset_around(emu: Any) -> Iterator[Service]:
    emu.reset()
    yield Service(emu)
    emu.reset()


@pytest.fixture(scope="session")
def _emulator() -> Iterator[Any]:
    yield from _running()


@pytest.fixture
def emulator(_emulator: Any) -> Iterator[Service]:
    """The shared emulator, reset for each test: no backups, faults, issued tokens or counts."""
    yield from _reset_around(_emulator)


@pytest.fixture(scope="session")
def _other_emulator() -> Iterator[Any]:
    yield from _running()


@pytest.fixture
def other_emulator(_other_emulator: Any) -> Iterator[Service]:
    """A second emulator (another cloud, with the same seed), reset for each test."""
    yield from _reset_around(_other_emulator)


@dataclass
class Reporting(Service):
    """An emulator seeded with a backup history (tests/report_seed.py), and the history it holds."""

    made: list[Any] = field(default_factory=list)


@pytest.fixture(scope="session")
def _reporting_emulator() -> Iterator[tuple[Any, list[Any]]]:
    from datetime import datetime, timezone

    from tests.report_seed import seed_document
    from vbscli.emulator import Emulator, EmulatorConfig
    from vbscli.emulator.seed import seed_from

    doc, made = seed_document(datetime.now(timezone.utc))
    with Emulator(EmulatorConfig(port=0, create_delay=0.0, seed=seed_from(doc))) as emu:
        yield emu, made


@pytest.fixture
def reporting(_reporting_emulator: tuple[Any, list[Any]]) -> Iterator[Reporting]:
    """The shared history emulator, reset for each test (its history stays)."""
    emu, made = _reporting_emulator
    emu.reset()
    yield Reporting(emu, made)
    emu.reset()
