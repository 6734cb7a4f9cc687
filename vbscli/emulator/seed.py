"""The emulator's starting data: project, credentials, volumes and snapshots (a YAML file or the demo set)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class SeedError(Exception):
    """A seed file that cannot be used; the message names the file and what is wrong."""


@dataclass
class Volume:
    id: str
    status: str = "available"
    size: int = 10
    fail_backups: bool = False
    availability_zone: str = "eu-de-01"


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


def demo_seed() -> Seed:
    """A ready-made data set: one disk of each kind a newcomer may want to try."""
    v = [
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "available", 10),
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02", "in-use", 40),
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03", "available", 20, fail_backups=True),
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a04", "error", 10),
    ]
    s = [Snapshot(f"9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d0{i}", vol.id) for i, vol in enumerate(v, start=1)]
    return Seed(
        project_id="0123456789abcdef0123456789abcdef",
        tokens=["demo-token"],
        volumes=v,
        snapshots=s,
        users=[User("demo", "demo-password", "demo-domain")],
        access_keys=[AccessKey("DEMOACCESSKEY0000000", "demo-secret-key")],
    )


def load_seed(path: str | Path) -> Seed:
    """Read and check a seed file (yaml.safe_load); SeedError says file, line and problem."""
    import yaml

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_bytes())
    except OSError as exc:
        raise SeedError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SeedError(f"{where}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: invalid YAML: {exc}") from None
    return seed_from(doc, str(path))


def seed_from(doc: Any, where: str = "seed") -> Seed:
    if not isinstance(doc, dict):
        raise SeedError(f"{where}: expected a mapping with project_id, tokens, volumes, snapshots")
    project = doc.get("project_id")
    if not isinstance(project, str) or not project:
        raise SeedError(f"{where}: 'project_id' is missing")

    def items(key: str) -> list[dict[str, Any]]:
        value = doc.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise SeedError(f"{where}: '{key}' must be a list of mappings")
        return value

    def uuid(value: Any, what: str) -> str:
        if not isinstance(value, str) or not UUID.fullmatch(value):
            raise SeedError(f"{where}: {what} {value!r} is not a UUID")
        return value.lower()

    tokens = doc.get("tokens") or []
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise SeedError(f"{where}: 'tokens' must be a list of strings")
    volumes = [
        Volume(uuid(v.get("id"), "volume id"), str(v.get("status", "available")), int(v.get("size", 10)),
               bool(v.get("fail_backups", False)))
        for v in items("volumes")
    ]
    known = {v.id for v in volumes}
    snapshots = []
    for s in items("snapshots"):
        volume_id = uuid(s.get("volume_id"), "snapshot volume_id")
        if volume_id not in known:
            raise SeedError(f"{where}: snapshot {s.get('id')} names unknown volume {volume_id}")
        snapshots.append(Snapshot(uuid(s.get("id"), "snapshot id"), volume_id, str(s.get("status", "available"))))
    try:
        users = [User(str(u["name"]), str(u["password"]), str(u["domain"])) for u in items("users")]
        keys = [AccessKey(str(k["access_key"]), str(k["secret_key"])) for k in items("access_keys")]
    except KeyError as exc:
        raise SeedError(f"{where}: a user or access key lacks {exc.args[0]!r}") from None
    return Seed(project, str(doc.get("project_name", "eu-de_demo")), list(tokens), volumes, snapshots, users, keys)
