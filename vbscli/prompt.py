"""Questions to the person at the terminal: asked on stderr, answered on stdin.

Nothing of a conversation goes to stdout, which carries only the result (`... -o json | jq`, or
stdout redirected to a file while a person answers on the terminal). Callers ask only when
`Environment.interactive` is true. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vbscli.environment import Environment
from vbscli.errors import Interrupted


def line(env: Environment, question: str, *, hidden: bool = False) -> str:
    """Write `question` on stderr and read one line of answer (without its line break).

    `hidden`: the answer is typed without echo (a secret). Ctrl-C raises Interrupted and end of
    input (Ctrl-D) EOFError, as `input()` does; either way the next message starts a line of its own.
    """
    try:
        # The question is written inside the try: a Ctrl-C typed the moment it appears may be handled
        # before the read begins, and is still an answer to this question.
        env.stderr.write(question)
        env.stderr.flush()
        answer = _read_hidden(env) if hidden else env.stdin.readline()
    except (Interrupted, KeyboardInterrupt):
        env.stderr.write("\n")
        env.stderr.flush()
        raise
    if hidden or not answer:  # the line break typed was not echoed, or none was typed
        env.stderr.write("\n")
        env.stderr.flush()
    if not answer:
        raise EOFError
    return answer.rstrip("\r\n")


def _read_hidden(env: Environment) -> str:
    """One line from the terminal with echo off (as getpass does, but the question stays on stderr)."""
    import termios

    fd = env.stdin.fileno()
    before = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    try:
        return env.stdin.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, before)


def ask(
    env: Environment,
    label: str,
    *,
    secret: bool = False,
    default: str | None = None,
    check: Callable[[str], Any] | None = None,
    optional: bool = False,
) -> str:
    """Ask until the answer is acceptable: `check` raises ValueError (or a VbsError) saying why not,
    which is shown and the question asked again. An empty answer is `default`, or "" when `optional`."""
    question = f"{label} [{default}]: " if default else f"{label}: "
    while True:
        answer = line(env, question, hidden=secret).strip()
        if not answer and default is not None:
            answer = default
        if not answer:
            if optional:
                return ""
            problem: str | None = "an answer is needed"
        else:
            problem = _problem(check, answer)
        if problem is None:
            return answer
        env.stderr.write(f"Error: {problem}\n")
        env.stderr.flush()


def _problem(check: Callable[[str], Any] | None, answer: str) -> str | None:
    if check is None:
        return None
    from vbscli.errors import VbsError

    try:
        check(answer)
    except ValueError as exc:
        return f"it {exc}"
    except VbsError as exc:
        return exc.message
    return None
