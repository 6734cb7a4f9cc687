"""Editing the profile file: add, remove, choose the default. Other profiles are kept as they are.

The file is rewritten whole (comments are not kept), atomically, with mode 0600.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from vbscli import redact
from vbscli.config import ProfileFile, load_profile_file
from vbscli.errors import ConfigError, InputError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InputError(
            f"invalid profile name {name!r}",
            "use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit",
        )
    return name


def read(path: Path) -> ProfileFile:
    """The file, or an empty one if it does not exist yet."""
    if not path.exists():
        return ProfileFile(path, None, {})
    return load_profile_file(path)


def write(pfile: ProfileFile) -> None:
    import yaml

    doc: dict[str, Any] = {}
    if pfile.default:
        doc["default"] = pfile.default
    doc["profiles"] = pfile.profiles
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True)
    path = pfile.path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write profile file {path}: {exc.strerror or exc}") from None


def masked(node: Any) -> Any:
    """A copy fit to print: every secret value replaced (names of variables holding secrets stay)."""
    return redact.mapping(node)


def require(pfile: ProfileFile, name: str) -> dict[str, Any]:
    if name not in pfile.profiles:
        known = ", ".join(sorted(pfile.profiles)) or "none"
        raise ConfigError(f"profile '{name}' not found in {pfile.path}; known profiles: {known}")
    return pfile.profiles[name]


def add(pfile: ProfileFile, name: str, profile: dict[str, Any], *, replace: bool, make_default: bool) -> None:
    check_name(name)
    if name in pfile.profiles and not replace:
        raise InputError(f"profile '{name}' already exists in {pfile.path}", "pass --replace to overwrite it")
    pfile.profiles[name] = profile
    if make_default or not pfile.default:
        pfile.default = name
    write(pfile)


def remove(pfile: ProfileFile, name: str) -> bool:
    """Remove a profile; True if it was the default (which is then unset)."""
    require(pfile, name)
    del pfile.profiles[name]
    was_default = pfile.default == name
    if was_default:
        pfile.default = None
    write(pfile)
    return was_default


def set_default(pfile: ProfileFile, name: str) -> None:
    require(pfile, name)
    pfile.default = name
    write(pfile)


def summary(pfile: ProfileFile) -> list[dict[str, Any]]:
    """One entry per profile for `vbs profile list`: no secrets, just what tells them apart."""
    rows = []
    for name in sorted(pfile.profiles):
        body = pfile.profiles[name]
        auth = body.get("auth") if isinstance(body.get("auth"), dict) else {}
        rows.append(
            {
                "name": name,
                "default": name == pfile.default,
                "endpoint": body.get("endpoint"),
                "project_id": body.get("project_id"),
                "auth_type": auth.get("type", "token") if auth else None,
            }
        )
    return rows
