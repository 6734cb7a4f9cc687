"""CI installs the lowest versions of the runtime dependencies that pyproject.toml allows and runs the
end-to-end tests under them (.ci/run); tools/lowest_requirements.py says which versions those are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from lowest_requirements import floors  # noqa: E402


def test_each_floor_becomes_a_pin_and_a_dependency_without_one_is_refused():
    assert floors(["typer>=0.28,<0.29", "urllib3 >= 2.2", "pyyaml>=6.0; python_version>'3'"]) == [
        "typer==0.28",
        "urllib3==2.2",
        "pyyaml==6.0",
    ]
    with pytest.raises(SystemExit, match="requests: declare its lowest version"):
        floors(["requests"])


def test_the_floors_cover_what_vbs_relies_on_and_ci_runs_the_end_to_end_tests_under_them():
    pins = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lowest_requirements.py")], capture_output=True, text=True, check=True
    ).stdout.split()
    # HTTPResponse.read1(decode_content=...) and urllib3's exception types: urllib3 2.2
    assert "urllib3==2.2" in pins and any(p.startswith("requests==") for p in pins)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "tools/lowest_requirements.py" in ci and "tests/test_e2e*.py" in ci
