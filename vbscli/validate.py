"""Client-side checks of what the user typed, so that bad input never reaches the service."""

from __future__ import annotations

import re

from vbscli.errors import InputError

STATUSES = ("creating", "available", "error", "restoring", "deleting", "error_restoring")
"""The statuses the service gives a backup: the choices of `backup list --status`, the report's counts."""
NAME_RULE = "1-64 characters of letters, digits, '_' and '-', not starting with 'auto'"
DESCRIPTION_MAX = 255
DESCRIPTION_RULE = f"at most {DESCRIPTION_MAX} characters, without '<' or '>'"
UUID_RULE = "a UUID such as 5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _shown(value: str, limit: int = 80) -> str:
    """The offending value, quoted and cut to a readable length."""
    text = value if len(value) <= limit else value[:limit] + "…"
    return repr(text)


def _fail(field: str, problem: str, rule: str, value: str) -> InputError:
    return InputError(f"invalid {field} {_shown(value)}: {problem}", f"it must be {rule}")


def check_name(value: str, field: str = "--name") -> str:
    """The service's backup-name rule (VolumeBackup.0003/0004/0005/0007)."""
    if not value:
        raise _fail(field, "empty", NAME_RULE, value)
    if len(value) > 64:
        raise _fail(field, f"{len(value)} characters long", NAME_RULE, value)
    if not _NAME.fullmatch(value):
        bad = sorted({c for c in value if not re.fullmatch(r"[A-Za-z0-9_-]", c)})
        shown = " ".join(repr(c) for c in bad[:5])
        raise _fail(field, f"contains {shown}", NAME_RULE, value)
    if value.startswith("auto"):
        raise _fail(field, "starts with 'auto' (reserved for automatic backups)", NAME_RULE, value)
    return value


def check_uuid(value: str, field: str) -> str:
    """Volume and snapshot IDs are UUIDs (VolumeBackup.0011 otherwise)."""
    if not _UUID.fullmatch(value or ""):
        raise _fail(field, "not a UUID", UUID_RULE, value)
    return value


def check_description(value: str, field: str = "--description") -> str:
    if len(value) > DESCRIPTION_MAX:
        raise _fail(field, f"{len(value)} characters long", DESCRIPTION_RULE, value)
    if "<" in value or ">" in value:
        raise _fail(field, "contains '<' or '>'", DESCRIPTION_RULE, value)
    return value


DURATION_RULE = "a duration such as 26h, 90m, 2d, 1d12h or 3600 (seconds)"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str, field: str) -> float:
    """'26h', '1d12h', '90m', '3600' -> seconds (more than 0)."""
    text = (value or "").strip().lower().replace(" ", "")
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text or (len(parts) > 1 and any(u == "" for _, u in parts)):
        raise _fail(field, "not a duration", DURATION_RULE, value)
    seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if seconds <= 0:
        raise _fail(field, "not more than 0", DURATION_RULE, value)
    return seconds
