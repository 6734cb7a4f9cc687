"""The confirmation of destructive commands: what a Ctrl-C at the question means."""

from __future__ import annotations

import io

import pytest

from vbscli.cli import confirm
from vbscli.environment import Environment
from vbscli.errors import Interrupted


class _InterruptedWhileShown(io.StringIO):
    """stderr on which the question is shown at the moment the Ctrl-C is handled: the signal handler
    raises inside the write, before the read of the answer has begun."""

    def write(self, text: str) -> int:
        super().write(text)
        if "[y/N]" in text:
            raise Interrupted()
        return len(text)


def test_a_ctrl_c_handled_while_the_question_is_shown_still_says_nothing_was_done():
    env = Environment(vars={}, stdout=io.StringIO(), stderr=_InterruptedWhileShown(), stdin=io.StringIO("y\n"))
    with pytest.raises(Interrupted) as caught:
        confirm.ask(env, ["about to delete 1 backup:"], "Delete it?", "not confirmed: nothing deleted")
    assert caught.value.note == "not confirmed: nothing deleted"
