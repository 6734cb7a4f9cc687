"""The process exit codes, the contract that cron jobs and scripts rely on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit status `vbs` uses; the README's table is written from this enum."""

    OK = 0
    """The service accepted the request (or a dry run built it)."""
    REJECTED = 1
    """The service rejected the request (a 4xx not listed below); or `backup report --max-age` found a disk
    without an available backup that young."""
    USAGE = 2
    """Invalid usage or input; nothing was sent."""
    CONFIG = 3
    """Configuration problem: profile file, profile or setting."""
    AUTH = 4
    """Authentication or permission refused (401, 403)."""
    SERVICE = 5
    """Service failed or unreachable: 5xx, throttled, network, TLS, timeout, malformed answer."""
    BACKUP_FAILED = 6
    """With --wait: the backup ended in `error` (the message gives the fail_reason), or its snapshot, a
    restore or a delete failed."""
    WAIT_TIMEOUT = 7
    """With --wait: --wait-timeout passed; the work goes on in the service."""
    INTERNAL = 70
    """An unexpected error inside vbs itself (a bug; --debug shows the traceback)."""
    OUTPUT = 74
    """The result could not be written to stdout or to the file asked for (`--prometheus`): closed, or the
    disk is full; what the command did is done."""
    INTERRUPTED = 130
    """Interrupted (Ctrl-C), or a confirmation answered no; the message says what may have been created
    and how to check."""
    OUTPUT_CLOSED = 141
    """The reader of stdout went away (a broken pipe, e.g. `| head`). With --from, vbs stops sending,
    and the summary on stderr says which items were done and which were not sent."""


def of_items(failed: list[int], total: int) -> int:
    """The exit code of a run over `total` items (a fleet, deletions, a prune) given the codes of those
    that failed: 0 if none did; the code they share (3, 4 or 5) if every item failed the same way, as
    one item would have; else 1, and the report says which failed."""
    if not failed:
        return ExitCode.OK
    if (
        len(failed) == total
        and len(set(failed)) == 1
        and failed[0] in (ExitCode.CONFIG, ExitCode.AUTH, ExitCode.SERVICE)
    ):
        return failed[0]
    return ExitCode.REJECTED
