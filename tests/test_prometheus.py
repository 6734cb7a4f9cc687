"""The metrics file, read back by prometheus_client's own parser of the text format (an independent
implementation), and written so that a reader never sees half a file."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from vbscli import prometheus
from vbscli.errors import InputError, OutputError
from vbscli.report import Backup, build

UTC = timezone.utc
A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
NEWEST = datetime(2026, 3, 10, 2, 0, 0, tzinfo=UTC)
STAMP = 1773144000.25


def parsed(text: str) -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(family) -> dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples}


def report(names=None, max_age=None):
    backups = [
        Backup("b1", A, "available", 10, NEWEST),
        Backup("b2", A, "available", 10, datetime(2026, 3, 9, 2, tzinfo=UTC)),
        Backup("b3", A, "error", 10, datetime(2026, 3, 8, 2, tzinfo=UTC)),
        Backup("b4", B, "error", 40, datetime(2026, 3, 9, 2, tzinfo=UTC)),
    ]
    return build(backups, NOW, names=names or {A: "db01"}, max_age=max_age)


def test_every_family_has_help_type_and_the_report_facts():
    families = parsed(prometheus.exposition(report(), STAMP))
    assert families["vbs_report_success"].type == "gauge"
    assert families["vbs_report_success"].samples[0].value == 1
    assert families["vbs_report_timestamp_seconds"].samples[0].value == STAMP
    assert families["vbs_report_volumes"].samples[0].value == 2
    newest = families["vbs_backup_newest_available_timestamp_seconds"]
    assert newest.type == "gauge" and "newest available backup" in newest.documentation
    assert samples(newest) == {
        (("volume_id", A), ("volume_name", "db01")): NEWEST.timestamp(),
        (("volume_id", B), ("volume_name", "")): 0,  # never: an age alert fires
    }
    counts = samples(families["vbs_backups"])
    assert counts[(("status", "available"), ("volume_id", A), ("volume_name", "db01"))] == 2
    assert counts[(("status", "error"), ("volume_id", A), ("volume_name", "db01"))] == 1
    assert counts[(("status", "error"), ("volume_id", B), ("volume_name", ""))] == 1
    assert len(counts) == 2 * 6  # every status of every disk, so a series never vanishes
    sizes = samples(families["vbs_backups_size_bytes"])
    assert sizes[(("status", "available"), ("volume_id", A), ("volume_name", "db01"))] == 20 * 1024**3
    assert sizes[(("status", "error"), ("volume_id", B), ("volume_name", ""))] == 40 * 1024**3
    assert "vbs_backup_stale" not in families


def test_help_and_type_lines_come_once_before_their_samples():
    text = prometheus.exposition(report(), STAMP)
    lines = text.splitlines()
    for name in ("vbs_backups", "vbs_backups_size_bytes", "vbs_backup_newest_available_timestamp_seconds"):
        help_at = lines.index(next(line for line in lines if line.startswith(f"# HELP {name} ")))
        assert lines[help_at + 1] == f"# TYPE {name} gauge"
        sample_lines = [i for i, line in enumerate(lines) if line.startswith(name + "{")]
        assert sample_lines == list(range(help_at + 2, help_at + 2 + len(sample_lines)))
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_stale_disks_and_the_limit_with_max_age():
    families = parsed(prometheus.exposition(report(max_age=26 * 3600), STAMP))
    assert families["vbs_backup_max_age_seconds"].samples[0].value == 93600
    assert samples(families["vbs_backup_stale"]) == {
        (("volume_id", A), ("volume_name", "db01")): 0,
        (("volume_id", B), ("volume_name", "")): 1,
    }


@pytest.mark.parametrize(
    "name",
    ['say "hi"', "back\\slash", "two\nlines", "ends with \\", 'mixed \\" and \\n', "dåtå-диск-数据", '{a="b"}'],
)
def test_odd_names_are_escaped_and_read_back_unchanged(name):
    families = parsed(prometheus.exposition(report(names={A: name}), STAMP))
    labels = [s.labels for s in families["vbs_backup_newest_available_timestamp_seconds"].samples]
    assert {"volume_id": A, "volume_name": name} in labels


def test_a_name_that_is_not_valid_unicode_is_written_with_a_replacement_character(tmp_path: Path):
    """A JSON escape can carry a lone surrogate, which UTF-8 cannot encode: the file is still written."""
    target = tmp_path / "vbs.prom"
    prometheus.write_atomically(target, prometheus.exposition(report(names={A: "bad\ud800name"}), STAMP))
    families = parsed(target.read_text(encoding="utf-8"))
    labels = [s.labels for s in families["vbs_backup_newest_available_timestamp_seconds"].samples]
    assert {"volume_id": A, "volume_name": "bad\ufffdname"} in labels


def test_escaping_follows_the_format():
    assert prometheus.escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert prometheus.escape_help('a\\b"c\nd') == 'a\\\\b"c\\nd'


def test_a_failed_report_says_so_and_nothing_else():
    families = parsed(prometheus.exposition(None, STAMP))
    assert set(families) == {"vbs_report_success", "vbs_report_timestamp_seconds"}
    assert families["vbs_report_success"].samples[0].value == 0


def test_an_empty_project_is_a_successful_report():
    families = parsed(prometheus.exposition(build([], NOW), STAMP))
    assert families["vbs_report_success"].samples[0].value == 1
    assert families["vbs_report_volumes"].samples[0].value == 0


# -- the file ----------------------------------------------------------------------------------


@pytest.fixture
def textfiles(tmp_path: Path) -> Path:
    """A directory like node_exporter's textfile directory, holding nothing else."""
    directory = tmp_path / "textfile"
    directory.mkdir()
    return directory


def test_the_file_is_replaced_by_a_rename_so_a_reader_sees_old_or_new_never_half(textfiles: Path):
    target = textfiles / "vbs.prom"
    target.write_text("# old and complete\n")
    os.chmod(target, 0o640)
    before = target.stat().st_ino
    with open(target) as reader:  # a collector that opened the old file
        prometheus.write_atomically(target, prometheus.exposition(report(), STAMP))
        assert reader.read() == "# old and complete\n"
    assert target.stat().st_ino != before
    assert parsed(target.read_text())["vbs_report_success"].samples[0].value == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the mode of the file it replaces
    assert os.listdir(textfiles) == ["vbs.prom"]


def test_a_new_file_is_readable_by_others_even_under_a_strict_umask(tmp_path: Path):
    """The collector runs as another user; cron jobs often run with umask 077."""
    target = tmp_path / "vbs.prom"
    old = os.umask(0o077)
    try:
        prometheus.write_atomically(target, "x 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(textfiles: Path, monkeypatch):
    target = textfiles / "vbs.prom"
    target.write_text("old 1\n")

    def no_space(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OutputError, match="cannot write --prometheus .*No space left on device") as caught:
        prometheus.write_atomically(target, "new 1\n")
    assert caught.value.exit_code == 74
    assert target.read_text() == "old 1\n"
    assert os.listdir(textfiles) == ["vbs.prom"]


def test_targets_that_cannot_be_written_are_refused_up_front(tmp_path: Path):
    with pytest.raises(InputError, match="directory .*missing does not exist"):
        prometheus.check_target(str(tmp_path / "missing" / "vbs.prom"))
    with pytest.raises(InputError, match="is a directory"):
        prometheus.check_target(str(tmp_path))
    assert prometheus.check_target(str(tmp_path / "vbs.prom")) == tmp_path / "vbs.prom"
