#!/usr/bin/env python3
"""Print pip constraints that pin each runtime dependency to the lowest version pyproject.toml allows.

CI installs vbs with these (`pip install -c FILE ...`) and runs the end-to-end tests, so that a floor
that is too low (an API vbs uses that older releases lack) fails CI instead of a user's cron job.

    python tools/lowest_requirements.py > lowest.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def floors(dependencies: list[str]) -> list[str]:
    """`name>=X,<Y` becomes `name==X`; a dependency without a floor is an error (it has no lowest version)."""
    pins = []
    for requirement in dependencies:
        spec = requirement.split(";")[0]
        match = REQUIREMENT.match(spec)
        if not match:
            raise SystemExit(f"cannot read the requirement {requirement!r}")
        name, _, specifiers = match.groups()
        lowest = [s.strip()[2:].strip() for s in specifiers.split(",") if s.strip().startswith(">=")]
        if len(lowest) != 1:
            raise SystemExit(f"{name}: declare its lowest version with exactly one '>=' (found {specifiers!r})")
        pins.append(f"{name}=={lowest[0]}")
    return pins


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    sys.stdout.write("".join(f"{pin}\n" for pin in floors(project["dependencies"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
