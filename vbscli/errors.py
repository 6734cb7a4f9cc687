"""Typed failures. Lower layers raise these; only `vbscli.__main__` turns them into words on stderr and exit codes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vbscli.exit_codes import ExitCode

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """Messages quote values from files, variables and answers: a line break or an escape code in one
    must not break the error's one line (or reach the terminal), so control characters are shown escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class VbsError(Exception):
    """A failure the user can act on: `message` says what went wrong, `hint` what to do."""

    exit_code: ExitCode = ExitCode.SERVICE
    kind: str = "Error"
    ambiguous: bool = False
    """Set by the client when the failed request may have been processed by the service."""
    before_sending: bool = False
    """Set by the client when the failure came before the request left (signing, a login)."""
    backup_id: str | None = None
    """The backup this failure is about, once the service accepted its create (JSON: `backup_id`)."""
    context: str | None = None
    """What vbs was doing, said before the message (e.g. "backup X was created, but waiting for it failed")."""
    notes: tuple[str, ...] = ()
    """What vbs did about it (e.g. "gave up after 4 attempts"), said after the message."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        message = one_line(message)
        super().__init__(message)
        self.message = message
        self.hint = None if hint is None else one_line(hint)

    def as_dict(self) -> dict:
        """The JSON error object for `-o json` (same keys for every kind of failure), secrets masked: a
        service's message may quote what it was sent."""
        from vbscli import redact

        return self._with_backup(
            {"status": None, "code": self.kind, "message": redact.text(self.one_line()), "request_id": None}
        )

    def _with_backup(self, doc: dict) -> dict:
        if self.backup_id is not None:
            doc["backup_id"] = self.backup_id
        return doc

    def add_note(self, note: str) -> None:
        self.notes = (*self.notes, note)

    def about_backup(self, backup_id: str, context: str | None = None) -> VbsError:
        """Name the backup this failure concerns (and what was being done with it); returns self."""
        self.backup_id = backup_id
        if context and not self.context:
            self.context = context
        return self

    def _framed(self, text: str) -> str:
        if self.context:
            text = f"{self.context}: {text}"
        for note in self.notes:
            text += f"; {note}"
        return text

    def one_line(self) -> str:
        text = self._framed(self.message)
        return f"{text}; {self.hint}" if self.hint else text

    def summary(self) -> str:
        """What happened, without the advice (for messages that quote this error)."""
        return self.message

    def brief(self) -> str:
        """What happened in a few words, for a line about a retry (the full text comes with the final error)."""
        return self.message


class InputError(VbsError):
    """A value given on the command line breaks a rule; nothing was sent."""

    exit_code = ExitCode.USAGE
    kind = "InvalidInput"


class ConfigError(VbsError):
    """The profile file, the chosen profile or a setting is missing or wrong."""

    exit_code = ExitCode.CONFIG
    kind = "ConfigError"


class NetworkError(VbsError):
    """The service could not be reached, or did not answer in time.

    `sent` is True when the request may have reached the service (an answer was lost or late), so
    repeating a create could make a second backup. `retryable` is False for failures that a retry
    cannot fix (TLS verification).
    """

    exit_code = ExitCode.SERVICE
    kind = "NetworkError"

    def __init__(self, message: str, hint: str | None = None, *, sent: bool = False, retryable: bool = True) -> None:
        super().__init__(message, hint)
        self.sent = sent
        self.retryable = retryable


class BadResponseError(VbsError):
    """The service answered, but not with the documented shape."""

    exit_code = ExitCode.SERVICE
    kind = "BadResponse"


class BackupFailed(VbsError):
    """A waited-for backup ended in `error`."""

    exit_code = ExitCode.BACKUP_FAILED
    kind = "BackupFailed"


class WaitTimeout(VbsError):
    """Waiting ran out of time; the backup goes on in the service."""

    exit_code = ExitCode.WAIT_TIMEOUT
    kind = "WaitTimeout"


class Interrupted(BaseException):
    """Raised from the SIGINT handler; a BaseException so library code cannot swallow it.

    `note` says what the interruption leaves behind (e.g. a backup that goes on in the service)."""

    def __init__(self, note: str | None = None) -> None:
        super().__init__(note)
        self.note = note


@dataclass(eq=False)
class ServiceError(VbsError):
    """The service answered with an error status; carries what a user quotes to support."""

    status: int
    code: str | None = None
    message: str = ""
    request_id: str | None = None
    error_class: str | None = None
    retry_after: float | None = None
    hint: str | None = field(default=None)

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    kind = "ServiceError"

    @property
    def exit_code(self) -> ExitCode:  # type: ignore[override]
        return exit_code_for_status(self.status, self.retry_after)

    def as_dict(self) -> dict:
        from vbscli import redact

        return self._with_backup(
            {
                "status": self.status,
                "code": self.code,
                "message": redact.text(self.message),
                "request_id": self.request_id,
            }
        )

    def summary(self) -> str:
        return f"HTTP {self.status}" + (f" {self.code}" if self.code else "") + f": {self.message}"

    def brief(self) -> str:
        text = f"HTTP {self.status}" + (f" {self.code}" if self.code else "")
        return text + (f" (request id {self.request_id})" if self.request_id else "")

    def one_line(self) -> str:
        text = self.summary()
        if self.request_id:
            text += f" (request id {self.request_id})"
        text = self._framed(text)
        if self.hint:
            text += f"; {self.hint}"
        return text


def exit_code_for_status(status: int, retry_after: float | None = None) -> ExitCode:
    """Map an HTTP error status to the documented exit code.

    A 413 with a Retry-After of at least a second is the service saying "later" (a rate limit), so it
    counts as a service-side failure; any other 413 (Cinder's full quota comes with `Retry-After: 0`)
    is a quota the user must resolve.
    """
    if status in (401, 403):
        return ExitCode.AUTH
    if status in (408, 429) or status >= 500:
        return ExitCode.SERVICE
    if status == 413 and is_rate_limit(retry_after):
        return ExitCode.SERVICE
    return ExitCode.REJECTED


def is_rate_limit(retry_after: float | None) -> bool:
    """A 413 is a rate limit (come back later) only when it says when: Retry-After of 1 s or more."""
    return retry_after is not None and retry_after >= 1


class OutputError(VbsError):
    """The result could not be written to stdout or to a file asked for (closed, or the disk is full)."""

    exit_code = ExitCode.OUTPUT
    kind = "OutputError"
