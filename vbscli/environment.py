"""The process's surroundings (streams, terminal, variables) as one object that tests can replace."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Environment:
    vars: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    stdin: TextIO = field(default_factory=lambda: sys.stdin)

    @classmethod
    def from_process(cls) -> Environment:
        """The real process, read at call time (so test runners that swap sys.stdout are honoured)."""
        return cls(
            vars=dict(os.environ),
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            stdin=sys.stdin,
        )

    @property
    def no_color(self) -> bool:
        """NO_COLOR (any non-empty value) turns colour off; so does TERM=dumb (no-color.org)."""
        return bool(self.vars.get("NO_COLOR")) or self.vars.get("TERM") == "dumb"

    @property
    def interactive(self) -> bool:
        """A person at a terminal: only then may vbs prompt or animate."""
        return self.stdin_isatty and self.stderr_isatty

    def silence_stdout(self) -> None:
        """After a broken pipe or a failed write, later writes and flushes (at exit too) go nowhere
        instead of failing again: stdout's file descriptor is pointed at the null device."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass

    def color_stderr(self) -> bool:
        return self.stderr_isatty and not self.no_color

    def warn(self, message: str) -> None:
        """One warning line; like every line vbs writes about a failure, it passes the secret masker."""
        from vbscli import redact

        self.stderr.write(f"vbs: {self._label('warning', '33')}: {redact.text(message)}\n")
        self.stderr.flush()

    def error_line(self, message: str) -> None:
        from vbscli import redact

        self.stderr.write(f"vbs: {self._label('error', '31')}: {redact.text(message)}\n")
        self.stderr.flush()

    def _label(self, text: str, color: str) -> str:
        return f"\033[{color}m{text}\033[0m" if self.color_stderr() else text


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False
