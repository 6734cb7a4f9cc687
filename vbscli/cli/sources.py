"""What a command reads from a file named on its command line, or from stdin for '-': fleet files
(`create`, `prune` and `report` --from) and a saved listing (`prune --backups`).

Every invalid item of a fleet file is named on stderr, and nothing is sent while any is left.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from vbscli.environment import Environment
from vbscli.errors import InputError


def read(source: str, option: str = "--from") -> tuple[str, str]:
    """(text, name for messages) of a file, or of stdin for '-' (a leading byte order mark, as Excel
    writes one, is dropped by the fleet file's reader)."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {option} {source}: {getattr(exc, 'strerror', None) or exc}") from None
    return text, "stdin" if source == "-" else source


def fleet_items(source: str, env: Environment, skip_invalid: bool, others: str) -> list[Any]:
    """The items of a fleet file (vbscli.batch.Item); `others` says what --skip-invalid does with the
    valid ones ("create the others")."""
    from vbscli import batch

    text, name = read(source)
    items = batch.parse(text, name)
    invalid = [item for item in items if item.spec is None]
    for item in invalid:
        env.warn(f"invalid item: {item.problem}")
    if invalid and not skip_invalid:
        raise InputError(
            f"{len(invalid)} of {len(items)} items in {name} are invalid; nothing was sent",
            f"fix them, or pass --skip-invalid to {others}",
        )
    return items


def fleet_disks(source: str, env: Environment) -> list[str]:
    """The disks a fleet file names, in order, once each (for `prune` and `report`: only volume_id
    counts, and the other fields may be there)."""
    from vbscli import batch

    text, name = read(source)
    ids, problems = batch.volume_ids(text, name)
    for problem in problems:
        env.warn(f"invalid item: {problem}")
    if problems:
        raise InputError(f"{len(problems)} items in {name} are invalid; nothing was sent", "fix them and run again")
    return list(dict.fromkeys(ids))
