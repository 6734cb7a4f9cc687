"""The rule for commands that destroy data (delete, restore, prune).

On a terminal they show what they will do and ask; without one they need --yes, and without it
they stop before sending anything (exit 2). Their --dry-run sends nothing at all, not even a login.
"""

from __future__ import annotations

from typing import Annotated

import typer

from vbscli.environment import Environment
from vbscli.errors import InputError, Interrupted, VbsError
from vbscli.exit_codes import ExitCode

Yes = Annotated[
    bool, typer.Option("--yes", "-y", help="Do it without asking (needed when there is no terminal to ask on).")
]


class Declined(VbsError):
    """The person at the terminal answered no: nothing was changed."""

    exit_code = ExitCode.INTERRUPTED
    kind = "Declined"


def must_ask(env: Environment, yes: bool, command: str) -> bool:
    """True when a person must confirm first; an InputError (exit 2, nothing sent) when no one can."""
    if yes:
        return False
    if env.interactive:
        return True
    raise InputError(
        f"{command} changes data and there is no terminal to confirm on; nothing was sent",
        "pass --yes to go ahead, or --dry-run to see the requests",
    )


def ask(env: Environment, lines: list[str], question: str, declined: str) -> None:
    """Show `lines` and `question` on stderr and read the answer; raise Declined with `declined` on
    anything but yes (an empty line, end of input), Interrupted on Ctrl-C.

    Nothing of the conversation goes to stdout, which carries only the result (`... -o json | jq`)."""
    try:
        # The question is written inside the try: a Ctrl-C typed the moment it appears may be
        # handled before the read begins, and is still an answer to this question.
        env.stderr.write("".join(line + "\n" for line in lines) + f"{question} [y/N]: ")
        env.stderr.flush()
        answer = env.stdin.readline()
    except (Interrupted, KeyboardInterrupt):
        env.stderr.write("\n")
        raise Interrupted(declined) from None
    if not answer:  # end of input (Ctrl-D): no answer is no
        env.stderr.write("\n")
    if answer.strip().lower() not in ("y", "yes"):
        raise Declined(declined)
