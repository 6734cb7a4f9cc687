"""The cyclic garbage collector around start-up.

vbscli.__main__ runs the start-up (imports, the command tree, parsing) with the collector off: it
makes tens of thousands of long-lived objects and no garbage, which the collector would only walk
again and again. Every command's body runs with it on, whatever the command does and however long it
runs (vbscli.cli.globals.VbsCommand resumes it), and what start-up made is set aside first.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def resume() -> None:
    """Start-up is done: collect garbage cycles from here on. What start-up made is set aside first
    (gc.freeze: it is never garbage), so the collector does not walk it either."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Loading modules inside a command's body (the HTTP stack, YAML): start-up again, which makes
    long-lived objects and no garbage. The collector pauses meanwhile and what was loaded is set aside
    (gc.freeze) before it resumes, so a command pays for walking it neither now nor later."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
