"""The repository keeps its promises: generated files are current, and CI runs what the README says."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_files_are_current():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "regenerate.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ci_runs_the_readme_test_command_exactly():
    readme = (ROOT / "README.md").read_text()
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    command = ci_lines[-1]
    assert "pytest" in command
    assert f"\n{command}\n" in readme


def test_python_m_vbscli_runs_the_same_program():
    proc = subprocess.run([sys.executable, "-m", "vbscli", "--version"], capture_output=True, text=True, cwd=ROOT)
    from vbscli import __version__

    assert (proc.returncode, proc.stdout) == (0, f"vbs {__version__}\n")


def test_code_is_linted_and_formatted():
    for command in (["check"], ["format", "--check"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "vbscli", "tests", "tools", "benchmarks"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
