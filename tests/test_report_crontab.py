"""The README's crontab for the report's metrics, run as cron runs it: the entry's own PATH, a
minimal environment, /bin/sh, no terminal, any output being mail; against the emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Reporting
from tests.report_seed import WITH_BACKUPS

ROOT = Path(__file__).resolve().parent.parent
TEXTFILE = "/var/lib/prometheus/node-exporter/vbs_backup.prom"  # the Debian and Ubuntu package's directory


def crontab() -> list[str]:
    section = (ROOT / "README.md").read_text().split("**For Prometheus**", 1)[1]
    block = section.split("```crontab\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_crontab_is_a_user_crontab_cron_can_read():
    settings = [line for line in crontab() if re.fullmatch(r"[A-Z_]+=\S+", line)]
    entries = [line for line in crontab() if line not in settings]
    assert [s.split("=")[0] for s in settings] == ["PATH"] and len(entries) == 1
    fields = entries[0].split(None, 5)
    assert fields[:5] == ["*/15", "*", "*", "*", "*"]
    command = fields[5]
    assert command.split()[0] == "vbs"  # the sixth field is the command: no user name (that is /etc/crontab's form)
    assert "%" not in command.replace("\\%", "")  # cron makes a bare % a line break and the rest stdin
    assert re.search(r"(^| )-p prod( |$)", command)  # the profile is chosen, not taken from the environment
    assert "/usr/bin:/bin" in settings[0]  # what cron's own PATH has, kept


def test_the_entry_writes_the_metrics_as_cron_runs_it(reporting: Reporting, tmp_path: Path):
    home = tmp_path / "home"
    (home / ".config" / "vbs").mkdir(parents=True)
    (home / ".config" / "vbs" / "config.yaml").write_text(
        "profiles:\n"
        "  prod:\n"
        f"    endpoint: {reporting.emu.url}\n"
        f"    project_id: {reporting.emu.project_id}\n"
        f"    auth: {{type: token, token: {reporting.emu.token}}}\n"
    )
    (home / ".config" / "vbs" / "config.yaml").chmod(0o600)  # as `vbs profile add` writes it
    target = tmp_path / "textfile" / "vbs_backup.prom"
    target.parent.mkdir()
    settings = dict(line.split("=", 1) for line in crontab() if re.fullmatch(r"[A-Z_]+=\S+", line))
    (entry,) = (line for line in crontab() if "=" not in line.split()[0])
    command = entry.split(None, 5)[5].replace(TEXTFILE, str(target))
    # The one edit the README asks for: the PATH line names where vbs is installed.
    path = settings["PATH"].replace("/usr/local/bin", str(Path(sys.executable).parent), 1)
    cron_env = {"HOME": str(home), "LOGNAME": "backup", "SHELL": "/bin/sh", "PATH": path}
    proc = subprocess.run(
        ["/bin/sh", "-c", command],
        env=cron_env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")  # any output would be mailed
    families = {f.name: f for f in text_string_to_metric_families(target.read_text())}
    assert families["vbs_report_success"].samples[0].value == 1
    assert families["vbs_report_volumes"].samples[0].value == len(WITH_BACKUPS)
    assert os.listdir(target.parent) == ["vbs_backup.prom"]
