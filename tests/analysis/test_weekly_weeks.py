"""Week arithmetic of the weekly report: labels, bounds in a time zone, DST, year ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analysis.weekly.weeks import (
    WeekError,
    last_completed_week,
    parse_week,
    shift_week,
    week_bounds,
    week_of,
    week_span_text,
    weeks_in_year,
)


def test_bounds_are_local_midnights_monday_to_monday():
    start, end = week_bounds("2026-W47", "Europe/Berlin")
    assert start.isoformat() == "2026-11-16T00:00:00+01:00"
    assert end.isoformat() == "2026-11-23T00:00:00+01:00"
    assert start.astimezone(UTC) == datetime(2026, 11, 15, 23, tzinfo=UTC)
    assert week_span_text("2026-W47", "Europe/Berlin") == "Mon 16 Nov – Sun 22 Nov 2026"


@pytest.mark.parametrize(
    ("week", "zone", "hours"),
    [
        ("2026-W13", "Europe/Berlin", 167),  # clocks go forward on Sunday 29 March
        ("2026-W43", "Europe/Berlin", 169),  # and back on Sunday 25 October
        ("2026-W10", "America/New_York", 167),  # 8 March in the US
        ("2026-W44", "America/New_York", 169),  # 1 November
        ("2026-W43", "UTC", 168),
        ("2026-W43", "Asia/Kolkata", 168),
    ],
)
def test_weeks_with_a_dst_change_have_the_wall_clock_length(week, zone, hours):
    start, end = week_bounds(week, zone)
    # In UTC: Python subtracts two datetimes of one zone on the wall clock.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)
    assert (start.hour, start.minute, start.weekday()) == (0, 0, 0)
    assert (end.hour, end.minute, end.weekday()) == (0, 0, 0)


def test_consecutive_weeks_tile_time_without_gaps_across_dst():
    zone = "Europe/Berlin"
    week = "2026-W08"
    for _ in range(60):
        _, end = week_bounds(week, zone)
        following = shift_week(week, 1)
        start, _ = week_bounds(following, zone)
        assert start == end, week
        week = following


def test_which_years_have_53_weeks():
    # ISO years with a week 53 start on a Thursday (or on a Wednesday in a leap year).
    assert [y for y in range(2020, 2033) if weeks_in_year(y) == 53] == [2020, 2026, 2032]


def test_year_boundary():
    # 2026-W53 runs into 2027; 29 December 2025 already belongs to 2026-W01.
    start, end = week_bounds("2026-W53", "UTC")
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-12-28", "2027-01-04")
    assert week_span_text("2026-W53", "UTC") == "Mon 28 Dec 2026 – Sun 3 Jan 2027"
    assert shift_week("2026-W53", 1) == "2027-W01"
    assert shift_week("2027-W01", -1) == "2026-W53"
    assert shift_week("2026-W01", -1) == "2025-W52"
    assert week_of(datetime(2025, 12, 29, 12, tzinfo=UTC), "UTC") == "2026-W01"
    assert week_of(datetime(2027, 1, 3, 12, tzinfo=UTC), "UTC") == "2026-W53"


def test_the_week_of_an_instant_depends_on_the_time_zone():
    # Sunday 23:30 UTC is already Monday in Berlin, still Sunday in New York.
    instant = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert week_of(instant, "UTC") == "2026-W47"
    assert week_of(instant, "Europe/Berlin") == "2026-W48"
    assert week_of(instant, "America/New_York") == "2026-W47"


def test_last_completed_week():
    # Monday 06:00 in Berlin (the schedule): the week that ended six hours ago.
    monday_6 = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert last_completed_week(monday_6, "Europe/Berlin") == "2026-W47"
    # Sunday evening: the week before, not the one still running.
    sunday = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert last_completed_week(sunday, "Europe/Berlin") == "2026-W46"
    assert last_completed_week(datetime(2027, 1, 4, 6, tzinfo=UTC), "UTC") == "2026-W53"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("2026-47", "expected YYYY-Www"),
        ("2026W47", "expected YYYY-Www"),
        ("2026-w47", "expected YYYY-Www"),
        ("2026-W7", "expected YYYY-Www"),
        ("", "expected YYYY-Www"),
        ("2025-W53", "2025 has weeks W01 to W52"),
        ("2026-W54", "2026 has weeks W01 to W53"),
        ("2026-W00", "2026 has weeks W01 to W53"),
    ],
)
def test_bad_labels_say_what_is_wrong(label, message):
    with pytest.raises(WeekError, match=message):
        parse_week(label)


def test_bad_time_zone_is_named():
    with pytest.raises(WeekError, match="'Mars/Olympus' is not an IANA time zone"):
        week_bounds("2026-W47", "Mars/Olympus")


def test_naive_instants_are_refused():
    with pytest.raises(WeekError, match="no time zone"):
        week_of(datetime(2026, 11, 22), "UTC")
