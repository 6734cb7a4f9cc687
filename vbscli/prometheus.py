"""The backup report as Prometheus metrics, in the text exposition format (0.0.4) that
node_exporter's textfile collector reads.

The file is written beside its target under a name the collector ignores (it reads `*.prom` only)
and renamed over the target, so the collector never reads half a file. A report that could not be
made still writes `vbs_report_success 0`, so an alert fires instead of old numbers looking fresh.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from vbscli.errors import InputError, OutputError
from vbscli.report import Disk, Report

GIB = 1024**3
"""The service counts backup sizes in whole GiB; Prometheus wants base units (bytes)."""

Sample = tuple[dict[str, str], float]


def escape_label(value: str) -> str:
    """Label values escape backslash, double quote and line feed; a name that is not valid Unicode
    (a lone surrogate from a JSON escape) gets U+FFFD in its place, as the format is UTF-8."""
    if not value.isascii():
        value = "".join("\ufffd" if 0xD800 <= ord(c) < 0xE000 else c for c in value)
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """HELP text escapes backslash and line feed."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def family(name: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    """One metric family (every metric of the report is a gauge): its HELP and TYPE lines, then every sample."""
    lines = [f"# HELP {name} {escape_help(help_text)}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        shown = ",".join(f'{key}="{escape_label(str(val))}"' for key, val in labels.items())
        lines.append(f"{name}{{{shown}}} {number(value)}" if shown else f"{name} {number(value)}")
    return lines


def report_label(path: Path) -> str:
    """The `report` label of a metrics file: its name without `.prom` (unique in the collector's
    directory, so two reports, of two projects or two fleets, never repeat a series)."""
    return path.name[: -len(".prom")] if path.name.endswith(".prom") else path.name


def exposition(report: Report | None, timestamp: float, name: str | None = None) -> str:
    """The whole file; `report` None means the report could not be made. With `name`, every series
    carries the label report="name": the collector refuses a series that two files both hold."""
    mine = {"report": name} if name is not None else {}
    lines = family(
        "vbs_report_success",
        "Whether the last vbs backup report could be made (1) or not (0).",
        [(mine, report is not None)],
    )
    lines += family(
        "vbs_report_timestamp_seconds",
        "When the last vbs backup report was made, in seconds since the epoch.",
        [(mine, timestamp)],
    )
    if report is None:
        return "\n".join(lines) + "\n"
    disks = report.disks
    lines += family("vbs_report_volumes", "Disks in the backup report.", [(mine, len(disks))])

    def who(disk: Disk) -> dict[str, str]:
        return {**mine, "volume_id": disk.volume_id, "volume_name": disk.name or ""}

    lines += family(
        "vbs_backup_newest_available_timestamp_seconds",
        "Creation time of the newest available backup of a disk, in seconds since the epoch "
        "(0 when the disk has none, so an age alert fires).",
        [(who(d), d.newest.created_at.timestamp() if d.newest and d.newest.created_at else 0) for d in disks],
    )
    lines += family(
        "vbs_backups",
        "Backups of a disk, by status.",
        [({**who(d), "status": status}, count) for d in disks for status, count in d.counts.items()],
    )
    lines += family(
        "vbs_backups_size_bytes",
        "Total size of a disk's backups, by status, in bytes (the service counts whole GiB).",
        [({**who(d), "status": status}, size * GIB) for d in disks for status, size in d.sizes.items()],
    )
    if report.max_age is not None:
        lines += family(
            "vbs_backup_max_age_seconds",
            "The --max-age the report checked against.",
            [(mine, report.max_age)],
        )
        lines += family(
            "vbs_backup_stale",
            "Whether a disk has no available backup younger than --max-age (1) or has one (0).",
            [(who(d), bool(d.stale)) for d in disks],
        )
    return "\n".join(lines) + "\n"


def check_target(path: str) -> Path:
    """Refuse, before anything is sent, a file that cannot be written."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError(f"--prometheus {path} is a directory", "give the path of a file, e.g. .../vbs_backup.prom")
    if not directory.is_dir():
        raise InputError(f"--prometheus {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(
            f"--prometheus {path}: directory {directory} is not writable",
            "the file is written beside its target and renamed, so the directory must be writable",
        )
    return target


def write_atomically(path: Path, text: str) -> None:
    """Write a temporary file in the same directory, flush it to disk, then rename it over `path`.

    The new file keeps the mode of the one it replaces, or gets 0644 whatever the umask: the file
    exists to be read by the collector, which runs as another user (cron jobs often run with umask
    077, which would leave a file only its writer can read). Metrics hold no secrets; a stricter
    mode set on the file (e.g. 0640 for the collector's group) is kept from then on.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o644
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write --prometheus {path}: {exc.strerror or exc}") from None
        raise
