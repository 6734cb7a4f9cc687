"""Requests that must not be repeated blindly (a snapshot, a delete, a restore): look before sending again.

The client decides whether a failed request may have been processed (`VbsError.ambiguous`); this
module decides what to do then. A caller-supplied `look()` asks the service whether the request
was acted on: DONE (report what was found, never send again) or AGAIN (surely not processed: send
once more, within the retry policy's attempts). If even the look-up fails, the user is told exactly
what to check, and nothing is repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vbscli.client import Call, Client, Response
from vbscli.errors import BadResponseError, NetworkError, VbsError

DONE, AGAIN = "done", "again"
Look = Callable[[], tuple[str, Any]]


@dataclass
class Sent:
    """The answer to the request, or (after a lost answer) what the look-up found instead."""

    response: Response | None = None
    found: Any = None
    document: Any = None
    """What `read` made of the response (when send was given one)."""


def send(
    client: Client,
    call: Call,
    look: Look,
    *,
    what: str,
    check: str,
    notify: Callable[[str], None] | None = None,
    read: Callable[[Response], Any] | None = None,
) -> Sent:
    """Send `call` (not idempotent); after a lost answer, `look()` before sending it again.

    `what` names the request in messages ("delete of backup X"); `check` is what the user can run or
    look at when vbs cannot tell whether the request was processed. `read(response)` makes the
    document of an answer: an accepted request whose answer cannot be read (BadResponseError) is
    looked up as well, and never sent again.
    """
    resends = (client.retry.max_attempts if client.retry else 1) - 1
    while True:
        try:
            response = client.send(call, what=what)
        except VbsError as exc:
            if not exc.ambiguous:
                raise
            try:
                verdict, found = look()
            except VbsError as lookup:
                raise NetworkError(
                    f"the answer to the {what} was lost ({exc.summary()}) and looking it up failed too "
                    f"({lookup.summary()})",
                    f"before trying again, check {check}",
                    sent=True,
                ) from None
            if verdict == DONE:
                if notify:
                    notify(f"the answer to the {what} was lost ({exc.summary()}), but the service has it: reporting it")
                return Sent(found=found)
            if resends <= 0:
                exc.message += f"; the {what} was not processed"
                raise
            resends -= 1
            if notify:
                notify(f"the answer to the {what} was lost ({exc.summary()}) and it was not processed: sending again")
            continue
        if read is None:
            return Sent(response=response)
        try:
            return Sent(response=response, document=read(response))
        except BadResponseError as exc:
            try:
                verdict, found = look()
            except VbsError:
                verdict = AGAIN
            if verdict != DONE:
                exc.hint = f"the {what} was accepted (HTTP {response.status}); before trying again, check {check}"
                raise
            if notify:
                notify(f"{exc.message}, but the service has the {what}: reporting it")
            return Sent(found=found)
