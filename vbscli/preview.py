"""What a dry run shows: the requests a command would send, built without sending anything at all.

Not even a login: with a login (password, application credential, a token traded for one) the token
header is a placeholder, and a project given only by name stays `{project_id}` unless a still-valid
cached login tells it; so does an endpoint that only the service catalog tells (without a cached login
the dry run says that it cannot know it). A token or an AK/SK signature is computed here, and masked
when shown.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vbscli.client import Call, Client

PROJECT_PLACEHOLDER = "{project_id}"
TOKEN_PLACEHOLDER = "<token from the IAM login>"


def prepare(client: Client, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Call:
    """The call as it would be sent, credentials included, with no network traffic."""
    if not hasattr(client.auth, "cached"):  # no login: a token or a signature, made here
        return client.sign(client.prepare(method, path, body, params))
    from vbscli.keystone import DryRun

    grant = client.auth.cached()
    project = client.project_id or (grant.project_id if grant else None) or PROJECT_PLACEHOLDER
    offline = replace(client, auth=DryRun(client.auth), project_id=project)
    call = offline.prepare(method, path, body, params)
    call.headers["X-Auth-Token"] = TOKEN_PLACEHOLDER
    return call
