"""The emulator's starting data: project, credentials, volumes and snapshots (a YAML file or the demo set).

A seed file is read with yaml.safe_load semantics and checked before anything listens, so a typo is
reported as `file:line: what is wrong` instead of surfacing later as a puzzling 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbscli.emulator.history import UUID, SeededBackup
from vbscli.emulator.history import parse as parse_history

PROJECT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")

TOP_KEYS = (
    "project_id",
    "project_name",
    "tokens",
    "volumes",
    "snapshots",
    "users",
    "access_keys",
    "quotas",
    "application_credentials",
    "regions",
)
TOP_KEYS += ("backups", "history")  # a backup history, see vbscli.emulator.history
VOLUME_KEYS = ("id", "status", "size", "fail_backups", "availability_zone", "fail_snapshots", "fail_restores")
VOLUME_KEYS += ("name",)
QUOTA_KEYS = ("backups", "snapshots")
SNAPSHOT_KEYS = ("id", "volume_id", "status")


class SeedError(Exception):
    """A seed file that cannot be used; the message names the file (and line) and what is wrong."""


@dataclass
class Volume:
    id: str
    status: str = "available"
    size: int = 10
    fail_backups: bool = False
    availability_zone: str = "eu-de-01"
    fail_snapshots: bool = False
    fail_restores: bool = False
    name: str | None = None


@dataclass
class Snapshot:
    id: str
    volume_id: str
    status: str = "available"


@dataclass
class User:
    name: str
    password: str
    domain: str
    id: str = ""

    def __post_init__(self) -> None:
        self.id = self.id or f"u-{self.name}"


@dataclass
class ApplicationCredential:
    """Keystone's application credential: a secret for one user and the seed's project."""

    id: str
    name: str
    secret: str
    user: str
    """The name of one of the seed's users."""


@dataclass
class AccessKey:
    access_key: str
    secret_key: str


@dataclass
class Seed:
    project_id: str
    project_name: str = "eu-de_demo"
    tokens: list[str] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    access_keys: list[AccessKey] = field(default_factory=list)
    quotas: dict[str, int] = field(default_factory=dict)
    """Per-project limits by kind ('backups', 'snapshots'); a missing kind is unlimited."""
    application_credentials: list[ApplicationCredential] = field(default_factory=list)
    regions: list[str] = field(default_factory=lambda: ["RegionOne", "RegionTwo"])
    """The regions of the service catalog (block storage is offered in each)."""
    backups: list[SeededBackup] = field(default_factory=list)
    """Backups made before the start (the `backups` and `history` sections; see emulator.history)."""


def demo_seed() -> Seed:
    """A ready-made data set: one disk of each kind a newcomer may want to try."""
    v = [
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "available", 10, name="demo-data"),
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02", "in-use", 40, name="demo-app"),
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03", "available", 20, fail_backups=True, name="demo-failing"),
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a04", "error", 10, name="demo-broken"),
    ]
    s = [Snapshot(f"9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d0{i}", vol.id) for i, vol in enumerate(v, start=1)]
    return Seed(
        project_id="0123456789abcdef0123456789abcdef",
        tokens=["demo-token"],
        volumes=v,
        snapshots=s,
        users=[User("demo", "demo-password", "demo-domain")],
        access_keys=[AccessKey("DEMOACCESSKEY0000000", "demo-secret-key")],
        application_credentials=[
            ApplicationCredential("0c6e8a2f4b1d4e3a9f7c5b2d1e0a9b8c", "vbs-nightly", "demo-app-secret", "demo")
        ],
    )


def load_seed(path: str | Path) -> Seed:
    """Read and check a seed file; SeedError says `file:line: problem`."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SeedError(f"{path}: not UTF-8 text") from None
    lines: dict[int, tuple[Any, int]] = {}
    try:
        doc = _parse(text, lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SeedError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: invalid YAML: {exc}") from None
    return seed_from(doc, str(path), {key: line for key, (_, line) in lines.items()})


def _parse(text: str, lines: dict[int, tuple[Any, int]]) -> Any:
    """yaml.safe_load that also notes where each mapping and list starts, for error messages.

    `lines` maps id(object) to (object, line); holding the object keeps its id from being reused.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Loader, node: Any) -> Any:
        data: dict[Any, Any] = {}
        lines[id(data)] = (data, node.start_mark.line + 1)
        yield data
        data.update(loader.construct_mapping(node))

    def sequence(loader: Loader, node: Any) -> Any:
        data: list[Any] = []
        lines[id(data)] = (data, node.start_mark.line + 1)
        yield data
        data.extend(loader.construct_sequence(node))

    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    Loader.add_constructor("tag:yaml.org,2002:seq", sequence)
    loader = Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def seed_from(doc: Any, where: str = "seed", lines: dict[int, int] | None = None) -> Seed:
    """Check a parsed seed document and build the Seed; `lines` (id -> line) sharpens messages."""
    lines = lines or {}

    def fail(problem: str, near: Any = None) -> SeedError:
        line = lines.get(id(near)) if near is not None else None
        return SeedError(f"{where}:{line}: {problem}" if line else f"{where}: {problem}")

    if not isinstance(doc, dict):
        raise fail("expected a mapping with project_id, tokens, volumes and snapshots")
    _no_unknown(doc, TOP_KEYS, "the seed", fail)
    project = doc.get("project_id")
    if project is None:
        raise fail("'project_id' is missing", doc)
    if not isinstance(project, str) or not PROJECT_ID.fullmatch(project):
        raise fail(f"'project_id' must be a string of letters, digits, '-' or '_' (quote it): {project!r}", doc)
    project_name = doc.get("project_name", "eu-de_demo")
    if not isinstance(project_name, str) or not project_name:
        raise fail("'project_name' must be a non-empty string", doc)

    tokens = doc.get("tokens") or []
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
        raise fail("'tokens' must be a list of non-empty strings", doc)

    def items(key: str) -> list[dict[str, Any]]:
        value = doc.get(key) or []
        if not isinstance(value, list):
            raise fail(f"'{key}' must be a list", doc)
        for item in value:
            if not isinstance(item, dict):
                raise fail(f"each entry of '{key}' must be a mapping, not {item!r}", value)
        return value

    def text(entry: dict[str, Any], key: str, what: str, default: str | None = None) -> str:
        value = entry.get(key, default)
        if value is None:
            raise fail(f"{what}: '{key}' is missing", entry)
        if not isinstance(value, str) or not value:
            raise fail(f"{what}: '{key}' must be a non-empty string, not {value!r}", entry)
        return value

    def uuid(entry: dict[str, Any], key: str, what: str) -> str:
        value = text(entry, key, what)
        if not UUID.fullmatch(value):
            raise fail(f"{what}: {key} {value!r} is not a UUID", entry)
        return value.lower()

    volumes: dict[str, Volume] = {}
    for n, entry in enumerate(items("volumes"), start=1):
        what = f"volume {n}"
        _no_unknown(entry, VOLUME_KEYS, what, fail)
        volume_id = uuid(entry, "id", what)
        if volume_id in volumes:
            raise fail(f"{what}: id {volume_id} appears twice", entry)
        size = entry.get("size", 10)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise fail(f"{what}: 'size' must be a whole number of GB, at least 1, not {size!r}", entry)
        flags = {}
        for key in ("fail_backups", "fail_snapshots", "fail_restores"):
            flags[key] = entry.get(key, False)
            if not isinstance(flags[key], bool):
                raise fail(f"{what}: '{key}' must be true or false, not {flags[key]!r}", entry)
        volumes[volume_id] = Volume(
            volume_id,
            text(entry, "status", what, "available"),
            size,
            flags["fail_backups"],
            text(entry, "availability_zone", what, "eu-de-01"),
            fail_snapshots=flags["fail_snapshots"],
            fail_restores=flags["fail_restores"],
            name=text(entry, "name", what) if "name" in entry else None,
        )

    snapshots: dict[str, Snapshot] = {}
    for n, entry in enumerate(items("snapshots"), start=1):
        what = f"snapshot {n}"
        _no_unknown(entry, SNAPSHOT_KEYS, what, fail)
        snapshot_id = uuid(entry, "id", what)
        if snapshot_id in snapshots:
            raise fail(f"{what}: id {snapshot_id} appears twice", entry)
        volume_id = uuid(entry, "volume_id", what)
        if volume_id not in volumes:
            raise fail(f"{what}: volume_id {volume_id} is not one of the seed's volumes", entry)
        snapshots[snapshot_id] = Snapshot(snapshot_id, volume_id, text(entry, "status", what, "available"))

    users = []
    for n, entry in enumerate(items("users"), start=1):
        what = f"user {n}"
        _no_unknown(entry, ("name", "password", "domain", "id"), what, fail)
        users.append(
            User(
                text(entry, "name", what),
                text(entry, "password", what),
                text(entry, "domain", what),
                text(entry, "id", what) if entry.get("id") is not None else "",
            )
        )
    keys = []
    for n, entry in enumerate(items("access_keys"), start=1):
        what = f"access key {n}"
        _no_unknown(entry, ("access_key", "secret_key"), what, fail)
        keys.append(AccessKey(text(entry, "access_key", what), text(entry, "secret_key", what)))

    credentials = []
    for n, entry in enumerate(items("application_credentials"), start=1):
        what = f"application credential {n}"
        _no_unknown(entry, ("id", "name", "secret", "user"), what, fail)
        user = text(entry, "user", what)
        if user not in {u.name for u in users}:
            raise fail(f"{what}: user {user!r} is not one of the seed's users", entry)
        credentials.append(
            ApplicationCredential(text(entry, "id", what), text(entry, "name", what), text(entry, "secret", what), user)
        )
    regions = doc.get("regions", ["RegionOne", "RegionTwo"])
    if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and r for r in regions):
        raise fail("'regions' must be a non-empty list of region names", doc)

    if not (tokens or users or keys):
        raise fail("no credentials: give 'tokens' (or 'users' / 'access_keys') so a client can authenticate", doc)
    quotas = doc.get("quotas") or {}
    if not isinstance(quotas, dict):
        raise fail("'quotas' must be a mapping such as {backups: 10, snapshots: 10}", doc)
    _no_unknown(quotas, QUOTA_KEYS, "quotas", fail)
    for kind, limit in quotas.items():
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise fail(f"quotas: '{kind}' must be a whole number, at least 0, not {limit!r}", quotas)
    return Seed(
        project,
        project_name,
        list(tokens),
        list(volumes.values()),
        list(snapshots.values()),
        users,
        keys,
        {str(k): int(v) for k, v in quotas.items()},
        application_credentials=credentials,
        regions=list(regions),
        backups=parse_history(doc, set(volumes), fail),
    )


def _no_unknown(entry: dict[str, Any], known: tuple[str, ...], what: str, fail: Any) -> None:
    """A misspelt key (`fail_backup`) would otherwise be silently ignored."""
    unknown = [str(k) for k in entry if k not in known]
    if unknown:
        raise fail(f"{what}: unknown key {unknown[0]!r} (known: {', '.join(known)})", entry)
