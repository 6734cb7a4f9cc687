"""What the benchmarks share: the emulator in a process of its own, the environment that points vbs at
an emulator, and a bare client (no vbs) that reads listings as fast as this machine allows."""

from __future__ import annotations

import os
import re
import subprocess
import sys

BARE = r"""
import http.client, json, sys, threading, urllib.parse
url, project, token, beside = sys.argv[1:5]
host = urllib.parse.urlsplit(url).netloc

def pages(path, key):
    conn = http.client.HTTPConnection(host)
    marker, count = None, 0
    while True:
        query = {"limit": 200, **({"marker": marker} if marker else {})}
        conn.request("GET", f"/v3/{project}/{path}?{urllib.parse.urlencode(query)}", headers={"X-Auth-Token": token})
        doc = json.loads(conn.getresponse().read())
        count += len(doc[key])
        links = [l["href"] for l in doc.get(key + "_links", []) if l["rel"] == "next"]
        if not links:
            return count
        marker = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(links[0]).query))["marker"]

other = threading.Thread(target=pages, args=(beside, beside.split("/")[0]))
other.start()
print(pages("backups/detail", "backups"))
other.join()
"""


def bare_client(url: str, project: str, token: str, beside: str) -> list[str]:
    """The command line of a client without vbs (http.client, one kept-alive connection per listing)
    that reads every backup page by page, following the next links, while it reads the listing
    `beside` (e.g. "volumes/detail") the same way in a thread: what this machine and this emulator
    allow at best."""
    return [sys.executable, "-c", BARE, url, project, token, beside]


def emulator_process(vbs: str, *options: str) -> tuple[subprocess.Popen, str]:
    """`vbs emulator --port 0 OPTIONS --quiet` in a process of its own, and its URL once it listens."""
    process = subprocess.Popen([vbs, "emulator", "--port", "0", *options, "--quiet"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    found = re.fullmatch(r"vbs emulator listening on (\S+)\n", process.stdout.readline())
    if found is None:
        process.terminate()
        raise SystemExit("the emulator did not start")
    return process, found.group(1)


def service_env(url: str, project: str, token: str, home: str) -> dict[str, str]:
    """This environment with vbs pointed at `url` by VBS_* variables alone: no profile file and no
    cached login (XDG_CONFIG_HOME and XDG_CACHE_HOME in `home`), no proxy for 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VBS_")}
    env.update(
        {
            "VBS_ENDPOINT": url,
            "VBS_PROJECT_ID": project,
            "VBS_TOKEN": token,
            "NO_PROXY": "127.0.0.1",
            "XDG_CONFIG_HOME": home,
            "XDG_CACHE_HOME": home,
        }
    )
    return env
