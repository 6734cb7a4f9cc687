"""The fault matrix: each failure the emulator can produce, against the installed `vbs`.

For every fault: the exit code, the one-line message, no traceback, and how many backups the service
really made (never more than one).
"""

from __future__ import annotations

import pytest

from tests.conftest import Service
from tests.helpers import run_vbs

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT, "-o", "table")
RETRYING = {"VBS_MAX_ATTEMPTS": "4"}


def step(fault: str, times: int = 1, match: str = "POST backups", **extra):
    return {"match": match, "fault": fault, "times": times, **extra}


MATRIX = [
    # (id, script, exit code, backups created, text in stderr)
    (
        "503-twice-then-ok",
        [step("status", 2, status=503, retry_after=0)],
        0,
        1,
        "retrying create in 0.0 s (attempt 3 of 4)",
    ),
    ("throttled-with-retry-after", [step("throttle", retry_after=0)], 0, 1, "HTTP 429 APIGW.0308"),
    ("overlimit-with-retry-after", [step("overlimit", retry_after=1)], 0, 1, "HTTP 413 overLimit"),
    ("overlimit-quota", [step("overlimit")], 1, 0, "a backup quota or rate limit was reached"),
    ("dropped-before-processing", [step("drop_before")], 0, 1, "does not exist: sending the request again"),
    ("dropped-after-processing", [step("drop_after")], 0, 1, "was created: reporting it"),
    ("html-502", [step("html", status=502)], 0, 1, "does not exist: sending the request again"),
    ("gateway-timeout-504", [step("status", status=504)], 0, 1, "does not exist: sending the request again"),
    ("truncated-202", [step("truncated")], 0, 1, "was created: reporting it"),
    ("503-always", [step("status", 10, status=503, retry_after=0)], 5, 0, "; gave up after 4 attempts"),
    ("500-once", [step("status", status=500)], 0, 1, "does not exist: sending the request again"),
    ("500-always", [step("status", 10, status=500)], 5, 0, "; backup '500-always' was not created"),
    (
        "202-without-id",
        [step("status", status=202, body={"backup": {"name": "nightly"}})],
        5,
        0,
        "vbs: error: the service answered HTTP 202 but without a backup id",
    ),
    (
        "200-html",
        [step("html", status=200)],
        5,
        0,
        "vbs: error: the service answered HTTP 200 with a body that is not JSON",
    ),
]


@pytest.mark.parametrize(("name", "script", "exit_code", "created", "text"), MATRIX, ids=[m[0] for m in MATRIX])
def test_fault(emulator: Service, name, script, exit_code, created, text):
    emulator.faults(script=script)
    run = run_vbs(*CREATE, "--name", name, env={**emulator.env, **RETRYING})
    assert run.exit_code == exit_code, run.stderr
    assert text in run.stderr
    assert emulator.created() == created
    if exit_code:
        assert run.stdout == ""
        errors = [line for line in run.stderr.splitlines() if line.startswith("vbs: error:")]
        assert len(errors) == 1
    else:
        assert name in run.stdout


def test_slow_body_ends_within_the_timeouts_and_finds_the_backup(emulator: Service):
    emulator.faults(script=[step("slow_body", seconds=0.25)])
    run = run_vbs(
        *CREATE,
        "--name",
        "slow-body",
        "--connect-timeout",
        "0.2",
        "--read-timeout",
        "0.3",
        env={**emulator.env, **RETRYING},
    )
    assert run.exit_code == 0, run.stderr
    assert "sent its answer too slowly" in run.stderr and "was created: reporting it" in run.stderr
    assert emulator.created() == 1


def test_huge_body_is_refused_with_bounded_memory(emulator: Service):
    backup_id = run_vbs(*CREATE[:-2], "--name", "huge-body", env=emulator.env).json()["backup"]["id"]
    emulator.faults(script=[step("huge_body", match="GET backup")])
    run = run_vbs("backup", "show", backup_id, "-o", "table", env=emulator.env)
    assert run.exit_code == 5
    assert "is larger than 8 MiB" in run.stderr


def test_random_5xx_and_throttling_still_create_exactly_once(emulator: Service):
    emulator.faults(error_rate=0.3, throttle_rate=0.2, retry_after=0, random_seed=11)
    results = [
        run_vbs(*CREATE[:-2], "--name", f"random-{n}", env={**emulator.env, "VBS_MAX_ATTEMPTS": "10"}) for n in range(4)
    ]
    assert [r.exit_code for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    assert emulator.created() == 4
