"""The emulator in the background: a PID file, readiness built in, and stopping exactly that one.

`start` runs `vbs emulator start` (without --detach) as a new session with its output in a log file,
and returns once that process listens, or says why it did not. The process writes the PID file
when it is ready and removes it when it stops. `stop` signals only the process the PID file names,
and only after the emulator at the URL it records has answered with that same process ID, so a
stale file never makes vbs signal an unrelated process that reused the number.

The PID file holds three lines: the process ID (so `kill $(head -1 FILE)` works), the URL, the log.
Standard library only, like the rest of the emulator.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

READY_FD = "VBS_EMULATOR_READY_FD"
"""Set in the detached process: the pipe on which it reports that it listens."""
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class BackgroundError(Exception):
    """Starting, finding or stopping a background emulator failed; `exit_code` is the started process's."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.exit_code = message, hint, exit_code


@dataclass
class Running:
    """What the PID file records about an emulator."""

    pid: int
    url: str
    log_file: str
    pid_file: str

    def document(self, status: str = "running") -> dict:
        return {
            "emulator": {
                "status": status,
                "pid": self.pid,
                "url": self.url,
                "pid_file": self.pid_file,
                "log_file": self.log_file or None,
            }
        }


def read(pid_file: str | Path) -> Running | None:
    """The emulator the PID file names, if that file exists and is readable."""
    try:
        lines = Path(pid_file).read_text(encoding="utf-8").splitlines()
        return Running(
            int(lines[0]), lines[1] if len(lines) > 1 else "", lines[2] if len(lines) > 2 else "", str(pid_file)
        )
    except (OSError, ValueError, IndexError):
        return None


def running(pid_file: str | Path) -> Running | None:
    """The emulator the PID file names if it is really running (a stale file is removed)."""
    found = read(pid_file)
    if found is None:
        if Path(pid_file).exists():
            raise BackgroundError(f"{pid_file} is not a PID file written by vbs", f"remove it: rm {pid_file}")
        return None
    if not alive(found.pid):
        _remove(pid_file, found.pid)
        return None
    if answering_pid(found.url) != found.pid:
        raise BackgroundError(
            f"{pid_file} names process {found.pid}, but no emulator of that process answers at "
            f"{found.url or '(no URL)'}; vbs leaves that process alone",
            f"if no emulator runs, remove the file: rm {pid_file}",
        )
    return found


def start(
    command: Sequence[str], pid_file: str, log_file: str, env: Mapping[str, str], timeout: float = READY_TIMEOUT
) -> Running:
    """Run `command` (a `vbs emulator start` without --detach) in the background; return once it listens."""
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    Path(pid_file).parent.mkdir(parents=True, exist_ok=True)
    open(log_file, "w").close()
    read_end, write_end = os.pipe()
    try:
        with open(log_file, "a") as log, open(os.devnull, "rb") as devnull:
            child = subprocess.Popen(
                list(command),
                stdin=devnull,
                stdout=log,
                stderr=log,
                env={**env, READY_FD: str(write_end)},
                pass_fds=(write_end,),
                start_new_session=True,  # no terminal signals: it outlives the shell that started it
            )
        os.close(write_end)
        write_end = -1
        try:
            answer = _read_line(read_end, timeout)
        except BaseException:  # interrupted while waiting: leave nothing half-started behind
            child.terminate()
            child.wait()
            raise
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    if answer is None:
        child.terminate()
        child.wait()
        raise BackgroundError(
            f"the emulator was not ready within {timeout:.0f} s; it was stopped", f"its log: {log_file}"
        )
    if not answer:
        code = child.wait()
        raise BackgroundError(_last_error(log_file) or f"the emulator exited with code {code}", exit_code=code)
    ready = json.loads(answer)
    return Running(int(ready["pid"]), str(ready["url"]), log_file, pid_file)


def record(pid_file: str | None, url: str, log_file: str | None) -> None:
    """In the emulator process, once it listens: write the PID file (atomically)."""
    if pid_file:
        path = Path(pid_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(f"{os.getpid()}\n{url}\n{log_file or ''}\n", encoding="utf-8")
        os.replace(temporary, path)


def report_ready(url: str) -> None:
    """In the emulator process, once it listens: tell the `start --detach` waiting for it, if any."""
    fd = os.environ.pop(READY_FD, None)
    if fd is not None:
        try:
            os.write(int(fd), (json.dumps({"pid": os.getpid(), "url": url}) + "\n").encode())
            os.close(int(fd))
        except (OSError, ValueError):
            pass


def withdraw(pid_file: str | None) -> None:
    """In the emulator process, when it stops: remove the PID file if it still names this process."""
    if pid_file:
        _remove(pid_file, os.getpid())


def stop(found: Running, timeout: float = STOP_TIMEOUT) -> None:
    """Ask the emulator to stop (SIGTERM, a clean stop) and wait until its process has ended: it removes
    its PID file on the way out, before it exits, so the file alone does not say that it is gone."""
    try:
        os.kill(found.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while alive(found.pid):
        if time.monotonic() > deadline:
            raise BackgroundError(
                f"the emulator (pid {found.pid}) did not stop within {timeout:.0f} s", f"kill -KILL {found.pid}"
            )
        time.sleep(0.05)
    _remove(found.pid_file, found.pid)


def alive(pid: int) -> bool:
    """The process exists and has not exited (a zombie waiting for its parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def answering_pid(url: str, timeout: float = 2.0) -> int | None:
    """The process ID the emulator at `url` reports, or None if nothing (or something else) answers."""
    import urllib.request

    if not url.startswith("http://"):
        return None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    try:
        with opener.open(f"{url}/_emulator/health", timeout=timeout) as answer:
            pid = json.loads(answer.read()).get("pid")
    except (OSError, ValueError, AttributeError):
        return None
    return pid if isinstance(pid, int) else None


def _read_line(fd: int, timeout: float) -> str | None:
    """The line the process reports when ready; "" if it exited without one, None on timeout."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return ""
        data += chunk
    return data.decode().strip()


def _last_error(log_file: str) -> str | None:
    """The error the process reported on its way out (its last line, a JSON error object)."""
    try:
        last = Path(log_file).read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1]
        return str(json.loads(last)["error"]["message"])
    except (OSError, IndexError, ValueError, KeyError, TypeError):
        return None


def _remove(pid_file: str | Path, pid: int) -> None:
    found = read(pid_file)
    if found is not None and found.pid == pid:
        try:
            os.unlink(pid_file)
        except OSError:
            pass


def command(arguments: Sequence[str]) -> list[str]:
    """The command line that runs vbs with `arguments` in a new process of this same Python."""
    return [sys.executable, "-m", "vbscli", *arguments]
