"""Requests that change something - a backup, a snapshot, a delete, a restore - are never repeated blindly.

One rule for all of them. The client sorts every failure into "surely not sent" (repeated within the
retry policy) and "may have been processed" (`VbsError.ambiguous`). After the latter, and after an
answer that accepted the request but cannot be read, the request's own look-up asks the service
whether it acted: DONE (report what was found, never send again) or AGAIN (surely not processed:
send once more, within the retry policy's attempts; never after an accepted answer). When even the
look-up fails, or the request cannot be looked for, nothing is repeated and the user is told exactly
what to check. Interrupted while the request may be on its way, the run says what may exist and how
to check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vbscli.client import Call, Client, Response
from vbscli.errors import BadResponseError, Interrupted, NetworkError, ServiceError, VbsError

DONE, AGAIN = "done", "again"
Look = Callable[[], tuple[str, Any]]
"""Asks the service whether the request was acted on: (DONE, what it found) or (AGAIN, None)."""


def deleted(status: Callable[[], Any]) -> Look:
    """The look-up of a DELETE, given how to read the thing's status: gone (404) or `deleting` means
    the delete was processed (a second DELETE of a backup already `deleting` gets 400 from upstream
    Cinder); any other status means it was not."""

    def look() -> tuple[str, Any]:
        try:
            now = status()
        except ServiceError as exc:
            if exc.status == 404:
                return DONE, "gone"
            raise
        return (DONE, now) if now == "deleting" else (AGAIN, None)

    return look


@dataclass(frozen=True, eq=False)
class Request:
    """A request that must not be repeated blindly, how to look for its effect, and how to speak of it."""

    call: Call
    name: str
    """Names it in retry lines: "create", "delete", ..."""
    what: str
    """Names it in messages: "the create request", "the delete of backup X"."""
    look: Look | None
    """None: it cannot be looked for (nothing is then repeated after a lost answer)."""
    check: str
    """What the user can do to find out, said after "before trying again, ": "check: vbs backup list ..."."""
    effect: str = ""
    """What may exist when vbs cannot tell: "backup 'nightly' may exist"."""
    looking: str = "looking it up"
    absent: str = "it was not processed"
    """Said when the look-up found nothing: "backup 'nightly' does not exist"."""
    undone: str = ""
    """Said when nothing more may be sent: "backup 'nightly' was not created" (default: "... was not processed")."""
    found: Callable[[Any], str] = lambda found: "the service has it"
    """Says what the look-up found: "backup 3f9c... was created"."""
    read: Callable[[Response], Any] | None = None
    """Checks and returns the answer's document; a BadResponseError means an accepted, unreadable answer."""

    @property
    def not_done(self) -> str:
        return self.undone or f"{self.what} was not processed"


def send(client: Client, request: Request, notify: Callable[[str], None] | None = None) -> Any:
    """Send `request` (not idempotent) by the rule above; returns its answer's document (`read`, or
    the Response itself), or what the look-up found instead."""
    try:
        return _send(client, request, notify or (lambda line: None))
    except (Interrupted, KeyboardInterrupt):
        may = f", so {request.effect}" if request.effect else ""
        raise Interrupted(f"{request.what} may have reached the service{may}; {request.check}") from None


def _send(client: Client, request: Request, notify: Callable[[str], None]) -> Any:
    resends = (client.retry.max_attempts if client.retry else 1) - 1
    while True:
        try:
            response = client.send(request.call, what=request.name)
        except VbsError as exc:
            if not exc.ambiguous:
                raise
            if request.look is None:
                may = f", so {request.effect}" if request.effect else ""
                exc.hint = f"{request.what} may have been processed{may}; before trying again, {request.check}"
                raise
            verdict, found = _look(request, exc)
            if verdict == DONE:
                lost = f"the answer to {request.what} was lost ({exc.brief()})"
                notify(f"{lost}, but {request.found(found)}: reporting it")
                return found
            if resends <= 0:
                exc.add_note(request.not_done)
                raise
            resends -= 1
            notify(
                f"the answer to {request.what} was lost ({exc.brief()}) and {request.absent}: sending the request again"
            )
            continue
        if request.read is None:
            return response
        try:
            return request.read(response)
        except BadResponseError as exc:
            return _accepted(request, exc, notify)


def _look(request: Request, lost: VbsError) -> tuple[str, Any]:
    assert request.look is not None
    try:
        return request.look()
    except VbsError as lookup:
        raise NetworkError(
            f"the answer to {request.what} was lost ({_told(lost)}) and {request.looking} failed too "
            f"({_told(lookup, lost)})",
            f"before trying again, {request.check}",
            sent=True,
        ) from None


def _accepted(request: Request, exc: BadResponseError, notify: Callable[[str], None]) -> Any:
    """The service accepted the request, but its answer cannot be read: report what the look-up
    finds, never send again."""
    found = None
    if request.look is not None:
        try:
            verdict, found = request.look()
        except VbsError:
            verdict = AGAIN
        if verdict == DONE:
            notify(f"{exc.message}, but {request.found(found)}: reporting it")
            return found
    exc.hint = f"{request.effect or 'it may have been processed'}; before trying again, {request.check}"
    raise exc


def _told(error: VbsError, before: VbsError | None = None) -> str:
    """An error quoted inside another message: the service's text once, what vbs did about it after."""
    text = error.brief() if before is not None and error.message == before.message else error.summary()
    return "; ".join([text, *error.notes])
