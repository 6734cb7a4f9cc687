"""Options that would have no effect are refused with a message, never silently ignored.

Every command states its rules with these two checks, so the messages read the same everywhere:
"--wait-timeout only applies with --wait", "--from cannot be combined with --name: ...".
Nothing is sent before they pass.
"""

from __future__ import annotations

from typing import Any

from vbscli.errors import InputError


def _given(options: tuple[tuple[str, Any], ...]) -> list[str]:
    return [flag for flag, value in options if value not in (None, False, (), [])]


def needs(option: str, present: Any, *options: tuple[str, Any]) -> None:
    """Each of `options` (flag, value) does something only together with `option`."""
    if present:
        return
    given = _given(options)
    if given:
        raise InputError(f"{', '.join(given)} only {'applies' if len(given) == 1 else 'apply'} with {option}")


def refused_with(option: str, present: Any, *options: tuple[str, Any], why: str) -> None:
    """`options` cannot be combined with `option`; `why` says why, or what to do instead."""
    if not present:
        return
    given = _given(options)
    if given:
        raise InputError(f"{option} cannot be combined with {', '.join(given)}", why)
