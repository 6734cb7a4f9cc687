"""Options several commands share, declared once so that they read, and are checked, the same everywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Optional

import typer

WaitTimeout = Annotated[
    Optional[float],
    typer.Option(
        "--wait-timeout",
        metavar="SECONDS",
        min=1,
        show_default=False,
        help="With --wait: give up waiting after this long (default 3600).",
    ),
]
PollInterval = Annotated[
    Optional[float],
    typer.Option(
        "--poll-interval",
        metavar="SECONDS",
        min=1,
        show_default=False,
        help="With --wait: longest pause between status checks (default 30; they start at 2 s and grow).",
    ),
]


def parallel(what: str) -> Any:
    """--parallel N (1 to 64), with what runs in parallel and its default."""
    return typer.Option("--parallel", metavar="N", min=1, max=64, show_default=False, help=what)


def wait_policy(wait: bool, timeout: float | None, interval: float | None) -> Any:
    """The WaitPolicy of --wait, --wait-timeout and --poll-interval (None without --wait)."""
    if not wait:
        return None
    from vbscli.polling import WaitPolicy

    return WaitPolicy(timeout=timeout or 3600.0, interval=interval or 30.0)


@contextmanager
def spinner(env: Any, subject: str = "") -> Iterator[Callable[..., None] | None]:
    """A status line on stderr while waiting, when a person is watching (None otherwise). It is
    called as show(subject, status, seconds); `watching` binds the subject for a single wait."""
    if not env.stderr_isatty:
        yield None
        return
    from rich.console import Console

    console = Console(file=env.stderr, no_color=env.no_color)
    with console.status(f"{subject}: starting") as status:

        def show(what: str, state: str, elapsed: float) -> None:
            status.update(f"{what}: {state} ({elapsed:.0f} s)")

        yield show


@contextmanager
def watching(env: Any, subject: str) -> Iterator[Callable[[str, float], None] | None]:
    """`spinner` for one thing waited for: yields on_status(status, seconds), or None without a person."""
    with spinner(env, subject) as show:
        yield (lambda status, elapsed: show(subject, status, elapsed)) if show else None
