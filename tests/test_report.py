"""The report's facts: day strips at the edges of days and time zones, ages, the --max-age boundary,
the order of disks, and the JSON document. Pure functions: no HTTP, no terminal, no clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from vbscli.clock import parse_time
from vbscli.errors import InputError
from vbscli.report import (
    AVAILABLE,
    FAILED,
    NONE,
    Backup,
    build,
    day_strip,
    format_age,
    format_limit,
    is_stale,
)
from vbscli.validate import parse_duration

UTC = timezone.utc
A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
C = "cccccccc-0000-4000-8000-000000000003"
D = "dddddddd-0000-4000-8000-000000000004"
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def backup(volume: str, created: str, status: str = "available", size: int = 10, bid: str | None = None) -> Backup:
    return Backup(bid or f"{volume[:8]}-{created}-{status}", volume, status, size, at(created))


def states(strip) -> str:
    return "".join({AVAILABLE: "#", FAILED: "x", NONE: "."}[day.state] for day in strip)


# -- the day strip ------------------------------------------------------------------------------


def test_a_backup_belongs_to_the_utc_day_it_was_made_on_up_to_the_last_second():
    strip = day_strip(
        [backup(A, "2026-03-08T23:59:59"), backup(A, "2026-03-10T00:00:00", "error")], date(2026, 3, 10), 3, UTC
    )
    assert [d.date for d in strip] == [date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)]
    assert states(strip) == "#.x"
    assert [d.backups for d in strip] == [1, 0, 1]


def test_the_strip_starts_days_minus_one_before_today_and_ignores_older_backups():
    strip = day_strip([backup(A, "2026-03-03T23:59:59"), backup(A, "2026-03-04T00:00:00")], date(2026, 3, 10), 7, UTC)
    assert strip[0].date == date(2026, 3, 4) and strip[-1].date == date(2026, 3, 10)
    assert states(strip) == "#......"


def test_just_after_midnight_today_is_a_new_empty_cell():
    report = build([backup(A, "2026-03-09T23:59:00")], at("2026-03-10T00:00:30"), days=2)
    assert report.last_day == date(2026, 3, 10)
    assert states(report.disks[0].days) == "#."
    assert report.disks[0].age_seconds == 90


def test_a_time_zone_east_of_utc_moves_a_late_backup_to_the_next_day():
    plus2 = timezone(timedelta(hours=2))
    late = [backup(A, "2026-03-09T22:30:00")]
    assert states(day_strip(late, date(2026, 3, 10), 2, UTC)) == "#."
    assert states(day_strip(late, date(2026, 3, 10), 2, plus2)) == ".#"  # 00:30 on the 10th there


def test_a_time_zone_west_of_utc_moves_an_early_backup_to_the_day_before():
    minus5 = timezone(timedelta(hours=-5))
    early = [backup(A, "2026-03-10T03:00:00")]
    assert states(day_strip(early, date(2026, 3, 10), 2, UTC)) == ".#"
    assert states(day_strip(early, date(2026, 3, 10), 2, minus5)) == "#."  # 22:00 on the 9th there


def test_today_is_the_local_date_of_now():
    kiritimati = timezone(timedelta(hours=14))
    report = build([backup(A, "2026-03-10T11:00:00")], NOW, days=2, tz=kiritimati)
    assert report.last_day == date(2026, 3, 11)  # 02:00 on the 11th at UTC+14
    assert [d.date.isoformat() for d in report.disks[0].days] == ["2026-03-10", "2026-03-11"]
    assert states(report.disks[0].days) == ".#"


def test_local_days_follow_daylight_saving_time():
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone database")
    # Summer time starts on 2026-03-29: 22:30 UTC is 23:30 on the 28th but 00:30 on the 30th.
    winter, summer = backup(A, "2026-03-28T22:30:00"), backup(A, "2026-03-29T22:30:00")
    strip = day_strip([winter, summer], date(2026, 3, 30), 3, berlin)
    assert [d.date.isoformat() for d in strip] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert states(strip) == "#.#"


def test_a_day_with_an_available_backup_is_available_even_if_others_failed():
    strip = day_strip(
        [backup(A, "2026-03-10T01:00:00", "error"), backup(A, "2026-03-10T02:00:00")], date(2026, 3, 10), 1, UTC
    )
    assert states(strip) == "#" and strip[0].backups == 2


def test_only_failed_backups_make_a_failed_day_and_backups_in_progress_make_none():
    strip = day_strip(
        [
            backup(A, "2026-03-08T01:00:00", "error"),
            backup(A, "2026-03-08T02:00:00", "deleting"),
            backup(A, "2026-03-09T01:00:00", "creating"),
        ],
        date(2026, 3, 10),
        3,
        UTC,
    )
    assert states(strip) == "x.."
    assert [d.backups for d in strip] == [2, 1, 0]


def test_a_backup_stamped_in_the_future_counts_for_today():
    strip = day_strip([backup(A, "2026-03-11T05:00:00")], date(2026, 3, 10), 2, UTC)
    assert states(strip) == ".#"


# -- ages ------------------------------------------------------------------------------------


def test_the_age_is_that_of_the_newest_available_backup_only():
    report = build(
        [
            backup(A, "2026-03-10T11:00:00", "error"),
            backup(A, "2026-03-10T11:30:00", "creating"),
            backup(A, "2026-03-09T12:00:00", bid="old"),
            backup(A, "2026-03-10T02:00:00", bid="newest"),
            backup(A, "2026-03-08T12:00:00", bid="older"),
        ],
        NOW,
    )
    disk = report.disks[0]
    assert disk.newest.id == "newest"
    assert disk.age_seconds == 10 * 3600
    doc = disk.as_dict()
    assert doc["newest_available_created_at"] == "2026-03-10T02:00:00Z"
    assert doc["age_seconds"] == 36000


def test_service_times_without_a_zone_are_utc_and_other_zones_are_converted():
    assert parse_time("2026-03-10T02:00:00.123456") == datetime(2026, 3, 10, 2, 0, 0, 123456, tzinfo=UTC)
    assert parse_time("2026-03-10T02:00:00Z") == datetime(2026, 3, 10, 2, tzinfo=UTC)
    assert parse_time("2026-03-10T04:00:00+02:00") == datetime(2026, 3, 10, 2, tzinfo=UTC)
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_ages_never_go_below_zero_when_the_service_clock_is_ahead():
    report = build([backup(A, "2026-03-10T12:05:00")], NOW)
    assert report.disks[0].age_seconds == 0


def test_a_backup_without_a_readable_time_is_counted_but_never_the_newest():
    odd = Backup.from_service({"id": "x", "volume_id": A.upper(), "status": "available", "created_at": "soon"})
    assert odd.volume_id == A and odd.created_at is None and odd.size == 0
    disk = build([odd], NOW).disks[0]
    assert disk.newest is None and disk.age_seconds is None and disk.total == 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "never"), (0, "0s"), (59.9, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h"), (3660, "1h 1m")]
    + [(86399, "23h 59m"), (86400, "1d"), (93600, "1d 2h"), (400 * 86400 + 5 * 3600, "400d 5h")],
)
def test_ages_read_like_a_person_would_say_them(seconds, text):
    assert format_age(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(93600, "26h"), (172800, "2d"), (5400, "90m"), (45, "45s"), (90.5, "90.5s"), (3601, "3601s")]
)
def test_limits_read_as_they_were_typed(seconds, text):
    assert format_limit(seconds) == text


# -- --max-age -------------------------------------------------------------------------------


def test_max_age_boundary_a_backup_exactly_that_old_is_stale():
    limit = parse_duration("26h", "--max-age")
    assert limit == 26 * 3600
    assert is_stale(limit, limit) is True
    assert is_stale(limit - 1, limit) is False
    assert is_stale(None, limit) is True
    exact = build([backup(A, "2026-03-09T10:00:00")], NOW, max_age=limit)  # 26 h before NOW
    younger = build([backup(A, "2026-03-09T10:00:01")], NOW, max_age=limit)
    assert exact.disks[0].stale is True and [d.volume_id for d in exact.stale] == [A]
    assert younger.disks[0].stale is False and younger.stale == []


def test_without_max_age_no_disk_is_called_stale():
    report = build([backup(A, "2020-01-01T00:00:00")], NOW)
    assert report.disks[0].stale is None and report.stale == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("26h", 93600), ("90m", 5400), ("2d", 172800), ("1d12h", 129600), ("3600", 3600), ("1.5h", 5400)]
    + [("45s", 45), ("1w", 604800), (" 26H ", 93600)],
)
def test_durations(text, seconds):
    assert parse_duration(text, "--max-age") == seconds


@pytest.mark.parametrize("text", ["", "h", "26x", "0", "0h", "-1h", "1h30", "26hh", "1d-2h", "soon"])
def test_bad_durations_name_the_option_and_the_rule(text):
    with pytest.raises(InputError) as caught:
        parse_duration(text, "--max-age")
    assert caught.value.one_line().startswith(f"invalid --max-age {text!r}: ")
    assert "26h" in caught.value.one_line()


# -- which disks, in which order -------------------------------------------------------------


def test_most_at_risk_first():
    report = build(
        [
            backup(A, "2026-03-10T02:00:00"),  # fresh
            backup(B, "2026-03-01T02:00:00"),  # 9 days old
            backup(C, "2026-03-09T02:00:00", "error"),  # never had an available backup
            backup(D, "2026-03-01T02:00:00"),  # as old as B, but with a failed day since
            backup(D, "2026-03-09T02:00:00", "error"),
        ],
        NOW,
        names={A: "alpha", B: "bravo", C: "charlie", D: "delta"},
    )
    assert [d.name for d in report.disks] == ["charlie", "delta", "bravo", "alpha"]


def test_never_backed_up_then_only_failed_then_stalest():
    """The order an operator works through: a disk nobody backs up, then one whose backups all fail
    (or are going away), then the one whose newest good backup is oldest."""
    report = build(
        [
            backup(B, "2026-03-01T02:00:00"),  # stale: 9 days
            backup(C, "2026-03-09T02:00:00", "error"),  # only failed
            backup(C, "2026-03-10T02:00:00", "error"),
            backup(A, "2026-03-10T01:00:00", "deleting"),  # backups, but none that will stay
        ],
        NOW,
        volume_ids=[A, B, C, D],  # D: named, no backup at all
        names={A: "alpha", B: "bravo", C: "charlie", D: "delta"},
    )
    assert [d.name for d in report.disks] == ["delta", "charlie", "alpha", "bravo"]


def test_a_backup_being_restored_from_is_usable_and_a_failed_restore_is_a_failure():
    report = build(
        [
            backup(A, "2026-03-09T02:00:00", "restoring"),
            backup(B, "2026-03-09T02:00:00", "error_restoring"),
            backup(C, "2026-03-09T02:00:00", "deleting"),
        ],
        NOW,
        days=2,
        max_age=86400 * 2,
    )
    by_id = {d.volume_id: d for d in report.disks}
    assert states(by_id[A].days) == "#." and by_id[A].age_seconds == 34 * 3600 and by_id[A].stale is False
    assert by_id[A].newest is not None and by_id[A].newest.status == "restoring"
    assert states(by_id[B].days) == "x." and by_id[B].newest is None and by_id[B].stale is True
    assert states(by_id[C].days) == ".." and by_id[C].newest is None and by_id[C].stale is True
    assert [d.volume_id for d in report.disks] == [B, C, A]  # more failed days first among the unusable


def test_ties_are_ordered_by_name_then_id():
    same = "2026-03-10T02:00:00"
    report = build(
        [backup(A, same), backup(B, same), backup(C, same)],
        NOW,
        names={A: "Zulu", C: "alpha"},
    )
    # B has no name: its ID stands in for it.
    assert [d.volume_id for d in report.disks] == [C, B, A]


def test_named_disks_are_reported_even_without_backups_and_only_they_are():
    report = build(
        [backup(A, "2026-03-10T02:00:00"), backup(B, "2026-03-10T02:00:00")],
        NOW,
        volume_ids=[A.upper(), D, A],
        max_age=3600,
    )
    assert [d.volume_id for d in report.disks] == [D, A]
    never = report.disks[0]
    assert never.newest is None and never.age_seconds is None and never.total == 0 and never.stale is True
    assert states(never.days) == "." * 14


def test_counts_and_sizes_by_status():
    report = build(
        [
            backup(A, "2026-03-10T02:00:00", size=10),
            backup(A, "2026-03-09T02:00:00", size=10),
            backup(A, "2026-03-08T02:00:00", "error", size=10),
            backup(A, "2026-01-08T02:00:00", "weird", size=5),
        ],
        NOW,
    )
    disk = report.disks[0]
    assert disk.total == 4 and disk.total_size == 35
    assert disk.counts == {
        "creating": 0,
        "available": 2,
        "error": 1,
        "restoring": 0,
        "deleting": 0,
        "error_restoring": 0,
        "weird": 1,
    }
    assert disk.sizes["available"] == 20 and disk.sizes["error"] == 10


def test_the_document_has_one_key_holding_one_object_per_disk():
    report = build(
        [backup(A, "2026-03-10T02:00:00", bid="b1")], NOW, days=2, names={A: "db01"}, volume_ids=[A, B], max_age=7200
    )
    doc = report.document()
    assert list(doc) == ["volumes"]
    first, second = doc["volumes"]
    assert first == {
        "volume_id": B,
        "volume_name": None,
        "newest_available_backup_id": None,
        "newest_available_created_at": None,
        "age_seconds": None,
        "stale": True,
        "backups": 0,
        "size_gb": 0,
        "backups_by_status": dict.fromkeys(
            ["creating", "available", "error", "restoring", "deleting", "error_restoring"], 0
        ),
        "size_gb_by_status": dict.fromkeys(
            ["creating", "available", "error", "restoring", "deleting", "error_restoring"], 0
        ),
        "days": [
            {"date": "2026-03-09", "state": "none", "backups": 0},
            {"date": "2026-03-10", "state": "none", "backups": 0},
        ],
    }
    assert second["volume_name"] == "db01" and second["newest_available_backup_id"] == "b1"
    assert second["age_seconds"] == 36000 and second["stale"] is True
    assert second["days"][-1] == {"date": "2026-03-10", "state": "available", "backups": 1}


# -- the strip against an independent statement: the C library's local time -------------------

ZONES = [
    "UTC",
    "Europe/Berlin",  # daylight saving time at 02:00
    "America/Sao_Paulo",  # daylight saving time began at midnight: some days had no 00:00
    "America/St_Johns",  # UTC-3:30 / -2:30
    "Asia/Kathmandu",  # UTC+5:45
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "Australia/Lord_Howe",  # a half-hour daylight saving shift
]


class LibcLocalTime:
    """Calendar days as the C library's localtime() computes them for TZ, a second implementation
    of the time zone rules beside Python's zoneinfo (which the report is given)."""

    def __init__(self, zone: str) -> None:
        self.zone = zone

    def __enter__(self) -> LibcLocalTime:
        import os
        import time

        self.saved = os.environ.get("TZ")
        os.environ["TZ"] = self.zone
        time.tzset()
        return self

    def __exit__(self, *exc: object) -> None:
        import os
        import time

        if self.saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = self.saved
        time.tzset()

    def day(self, moment: datetime) -> date:
        import time

        local = time.localtime(moment.timestamp())
        return date(local.tm_year, local.tm_mon, local.tm_mday)


def test_days_match_the_c_librarys_local_time_in_odd_zones():
    zoneinfo = pytest.importorskip("zoneinfo")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    statuses = st.sampled_from(["available", "error", "creating", "deleting", "restoring", "error_restoring"])

    @settings(max_examples=300, deadline=None)
    @given(
        zone=st.sampled_from(ZONES),
        now=st.datetimes(datetime(2011, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
        offsets=st.lists(st.tuples(st.integers(-25 * 86400, 3600), statuses), max_size=12),
        days=st.integers(1, 21),
    )
    def check(zone, now, offsets, days):
        try:
            tz = zoneinfo.ZoneInfo(zone)
        except zoneinfo.ZoneInfoNotFoundError:
            return
        made = [Backup(f"b{n}", A, status, 1, now + timedelta(seconds=s)) for n, (s, status) in enumerate(offsets)]
        report = build(made, now, days=days, tz=tz, volume_ids=[A])
        with LibcLocalTime(zone) as libc:
            today = libc.day(now)
            cells = {today - timedelta(days=k): [] for k in range(days)}
            for backup in made:
                day = min(libc.day(backup.created_at), today)  # stamped after now: counts for today
                if day in cells:
                    cells[day].append(backup.status)
        expected = []
        for day in sorted(cells):
            held = cells[day]
            if "available" in held or "restoring" in held:
                expected.append((day, AVAILABLE, len(held)))
            elif any(s in ("error", "error_restoring") for s in held):
                expected.append((day, FAILED, len(held)))
            else:
                expected.append((day, NONE, len(held)))
        assert report.last_day == today
        assert [(d.date, d.state, d.backups) for d in report.disks[0].days] == expected

    check()
