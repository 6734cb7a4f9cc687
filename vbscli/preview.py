"""What a dry run shows: the requests a command would send, built without sending anything at all.

Not even a login: with a password login the token header is a placeholder (and a project given only
by name stays `{project_id}`); a token or an AK/SK signature is computed here, and masked when shown.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vbscli.client import Call, Client

PROJECT_PLACEHOLDER = "{project_id}"
TOKEN_PLACEHOLDER = "<token from the IAM login>"


def prepare(client: Client, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Call:
    """The call as it would be sent, credentials included, with no network traffic."""
    logs_in = getattr(client.auth, "kind", "") == "password"
    offline = replace(client, project_id=client.project_id or PROJECT_PLACEHOLDER) if logs_in else client
    call = offline.prepare(method, path, body, params)
    if logs_in:
        call.headers["X-Auth-Token"] = TOKEN_PLACEHOLDER
        return call
    return client.sign(call)
