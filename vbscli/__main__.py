"""Entry point, and the one place where failures become messages and exit codes."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from vbscli.exit_codes import ExitCode

PROG = "vbs"


def _on_sigint(signum: int, frame: object) -> None:
    from vbscli.errors import Interrupted

    raise Interrupted()


def run(argv: Sequence[str] | None = None, state: object = None) -> int:
    """Run the command line and return the exit code; never raises (but for SystemExit)."""
    import typer
    from typer._click import exceptions as click_exceptions

    from vbscli.cli import command
    from vbscli.cli.runtime import State
    from vbscli.errors import InputError, Interrupted, OutputError, ServiceError, VbsError
    from vbscli.render import one_line, output_format, render_error

    args = list(argv) if argv is not None else sys.argv[1:]
    stdout = sys.stdout
    sys.stdout = _Stdout(stdout)  # type: ignore[assignment]
    st = state if isinstance(state, State) else State()
    env = st.env
    try:
        rv = command().main(args=args, prog_name=PROG, standalone_mode=False, obj=st)
        return int(rv) if isinstance(rv, int) else ExitCode.OK
    except (Interrupted, KeyboardInterrupt) as exc:
        note = getattr(exc, "note", None)
        env.error_line(f"interrupted; {note}" if note else "interrupted")
        return ExitCode.INTERRUPTED
    except OutputError as exc:
        env.silence_stdout()
        render_error(exc, output_format(st.output or _output_asked(args, env.vars), env), env)
        return exc.exit_code
    except click_exceptions.NoArgsIsHelpError as exc:
        # `vbs` or `vbs backup` alone: the help a newcomer is after, on stdout (rich help is printed already).
        text = exc.format_message()
        if text:
            env.stdout.write(text + "\n")
            env.stdout.flush()
        return ExitCode.OK
    except typer.Abort:
        env.error_line("aborted")
        return ExitCode.INTERRUPTED
    except click_exceptions.ClickException as exc:
        # Usage errors are input errors: one line, or the same JSON object, naming the command that failed.
        message = one_line(exc.format_message())
        if isinstance(exc, click_exceptions.UsageError):
            message += f" (see '{exc.ctx.command_path if exc.ctx else PROG} --help')"
        error = InputError(message)
        error.exit_code = exc.exit_code  # type: ignore[misc]
        render_error(error, output_format(st.output or _output_asked(args, env.vars), env), env)
        return exc.exit_code
    except VbsError as exc:
        if isinstance(exc, ServiceError) and exc.hint is None:
            exc.hint = _service_hint(exc, st)
        _redacted(exc)
        # Errors follow the output format, so a pipeline parsing JSON gets JSON on stderr too.
        render_error(exc, output_format(st.output or _output_asked(args, env.vars), env), env)
        return exc.exit_code
    except BrokenPipeError:
        # A reader like `head` went away: nothing more to say, and no traceback.
        env.silence_stdout()
        return ExitCode.OUTPUT_CLOSED
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        from vbscli import redact

        if st.debug:
            import traceback

            env.stderr.write(redact.text("".join(traceback.format_exception(exc))))
        name = type(exc).__name__
        env.error_line(redact.text(f"unexpected {name}: {exc} (a bug in vbs; run with --debug for the traceback)"))
        return ExitCode.INTERNAL
    finally:
        st.close()
        sys.stdout = stdout


def _output_asked(args: list[str], variables: object) -> str | None:
    """The output format asked for, read from the raw command line when parsing it failed: the last
    -o/--output (--field means value), else VBS_OUTPUT. An unknown name counts as none."""
    asked: str | None = None
    words = iter(args)
    for word in words:
        if word == "--":
            break
        if word in ("-o", "--output"):
            asked = next(words, None)
        elif word.startswith("--output="):
            asked = word.partition("=")[2]
        elif word.startswith("-o") and len(word) > 2:
            asked = word[2:]
        elif word in ("-f", "--field") or word.startswith("--field="):
            return "value"
    if asked is None:
        asked = getattr(variables, "get", lambda *_: None)("VBS_OUTPUT")
    from vbscli.values import OUTPUT_FORMATS

    asked = (asked or "").strip().lower()
    return asked if asked in OUTPUT_FORMATS else None


class _Stdout:
    """sys.stdout, with a failed write raised as OutputError: a closed stdout or a full disk is an
    output error with its own exit code (see _output_error)."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)  # type: ignore[attr-defined,no-any-return]
        except OSError as exc:
            raise _output_error(exc) from None

    def writelines(self, lines: object) -> None:
        for line in lines:  # type: ignore[attr-defined]
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()  # type: ignore[attr-defined]
        except OSError as exc:
            raise _output_error(exc) from None

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


class _ClosedStdout:
    """Stands in for sys.stdout when the process started with it closed (`vbs ... >&-`)."""

    encoding = "utf-8"
    errors = "strict"

    def write(self, text: str) -> int:
        import errno

        raise OSError(errno.EBADF, "stdout is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        import io

        raise io.UnsupportedOperation("stdout is closed")


def _output_error(exc: OSError) -> Exception:
    """A failed write to stdout: a reader that went away stays a BrokenPipeError (vbs stops quietly,
    exit 141; without an errno, so Click does not turn it into its own exit); anything else is an
    OutputError (exit 74)."""
    import errno

    from vbscli.errors import OutputError

    if exc.errno == errno.EPIPE:
        return BrokenPipeError("the reader of stdout went away")
    return OutputError(
        f"cannot write to stdout: {exc.strerror or exc}", "the command itself ran; only its output was lost"
    )


def _redacted(exc: object) -> None:
    """Every text of an error passes the masker before it is shown (it may quote a library's message)."""
    from vbscli import redact

    for name in ("message", "hint", "context"):
        value = getattr(exc, name, None)
        if isinstance(value, str):
            setattr(exc, name, redact.text(value))
    notes = getattr(exc, "notes", ())
    if notes:
        exc.notes = tuple(redact.text(n) for n in notes)  # type: ignore[attr-defined]


GATEWAY_CODES = {
    "APIGW.0301": "the IAM credentials were refused",
    "APIGW.0302": "the user is not authorized for this API",
    "APIGW.0307": "the token has expired and must be renewed",
    "APIGW.0308": "the request was throttled",
}

AUTH_CHECKS = {
    "token": "the token may be expired or revoked: get a new one",
    "password": "check the user name, password and domain, and that the user may use the project",
    "application_credential": "check the application credential's ID (or name and user) and secret, and that it "
    "has not expired or been deleted",
    "aksk": "check the access key and secret key, and this machine's clock (requests more than 15 "
    "minutes off are refused); five failures in a row lock the key for 5 minutes",
}


SERVICE_CODES = {
    # The service's codes, in vbs's words (its options, not the API's fields).
    "VolumeBackup.0016": "the disk is attached to a server: add --force to back it up anyway "
    "(data cached in memory is not included)",
    "VolumeBackup.0013": "a backup of this disk is still running; wait for it (vbs backup list --status creating)",
    "VolumeBackup.0012": "the disk must be 'available' or 'in-use' (with --force)",
}

NOT_FOUND_CODES = {"VolumeBackup.0021"}
"""Codes that say a thing does not exist, whatever the status they come with (404 always does)."""


def _service_hint(exc: object, st: object) -> str | None:
    """What the user can do about a service error; the service's own message says what happened."""
    status = getattr(exc, "status", 0)
    code = str(getattr(exc, "code", "") or "")
    profile = getattr(st, "profile", None)
    cloud = getattr(st, "cloud", None)
    auth_type = getattr(st, "auth_type", None) or "token"
    who = (
        f"profile '{profile}' (auth type {auth_type})"
        if profile
        else f"cloud '{cloud}' (auth type {auth_type})"
        if cloud
        else f"the credentials (auth type {auth_type})"
    )
    meaning = f"{GATEWAY_CODES[code]}; " if code in GATEWAY_CODES else ""
    if status == 401:
        return f"{meaning}{who}: {AUTH_CHECKS.get(auth_type, 'check the credentials')}"
    if status == 403:
        return f"{meaning}{who} may not do this in this project; check the project ID and the user's permissions"
    if status == 429 or code == "APIGW.0308":
        return "the service is throttling requests; wait a few seconds and try again"
    if status == 413:
        if getattr(exc, "exit_code", None) == ExitCode.SERVICE:
            return "a rate limit was reached; try again later"
        if "snapshot" in str(getattr(exc, "message", "")).lower():  # Cinder's SnapshotLimitExceeded
            return (
                "the project's snapshot quota is full: delete snapshots you no longer need ('vbs backup prune' "
                "removes those vbs made) or ask for a larger quota; retrying will not help"
            )
        return (
            "a backup quota or rate limit was reached: delete backups you no longer need ('vbs backup prune' "
            "keeps what a policy says) or ask for a larger quota; retrying will not help"
        )
    if code in SERVICE_CODES:
        return SERVICE_CODES[code]
    if status == 400 and "force" in str(getattr(exc, "message", "")).lower():
        return SERVICE_CODES["VolumeBackup.0016"]
    if status >= 500:
        return "the service failed; try again later and quote the request id if it persists"
    if status == 404 or code in NOT_FOUND_CODES:
        return "check the IDs, the endpoint URL and the project ID"
    return None


def complete_profiles() -> int:
    """`vbs __complete-profiles`: profile names for shell completion, one per line.

    Runs on a TAB press, so it imports neither typer, rich nor the HTTP stack, and stays silent.
    """
    import os

    from vbscli.paths import profile_names

    sys.stdout.write("".join(f"{name}\n" for name in profile_names(os.environ)))
    return 0


def complete_clouds() -> int:
    """`vbs __complete-clouds`: the clouds of clouds.yaml (and secure.yaml), found where vbs finds them,
    for shell completion of --os-cloud, one per line. As lean and silent as complete_profiles."""
    import os

    from vbscli.paths import cloud_names

    sys.stdout.write("".join(f"{name}\n" for name in cloud_names(os.environ, os.getcwd())))
    return 0


def main(argv: Sequence[str] | None = None) -> NoReturn:
    import gc

    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["__complete-profiles"]:
        sys.exit(complete_profiles())
    if args == ["__complete-clouds"]:
        sys.exit(complete_clouds())
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)
    if sys.stdout is None:
        _stdout_closed()
    # Start-up allocates tens of thousands of long-lived objects (modules, classes, functions) and no
    # garbage: the cyclic collector would only walk them again and again. It is switched back on where
    # every command's body is entered (vbscli.cli.globals.VbsCommand.invoke).
    gc.disable()
    code = run(argv)
    gc.freeze()  # the process ends here: the collection at exit need not walk every object once more
    if code == ExitCode.INTERRUPTED:
        _end_now(code)
    sys.exit(code)


def _end_now(code: int) -> NoReturn:
    """Ctrl-C ends the run now: requests still in flight on worker threads (a deletion, a listing,
    a poll) are abandoned, not waited for - Python would join those threads before exiting."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


def _stdout_closed() -> None:
    """Started with stdout closed: writing the result will fail as an output error, and file
    descriptor 1 is held on /dev/null so that no file opened later takes its place."""
    import os

    sys.stdout = _ClosedStdout()  # type: ignore[assignment]
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if devnull != 1:
            os.dup2(devnull, 1)
            os.close(devnull)
    except OSError:
        pass


if __name__ == "__main__":
    main()
