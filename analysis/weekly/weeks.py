"""ISO weeks as time windows of a time zone: labels, bounds, and the last completed week.

A report week is the ISO 8601 week (Monday to Sunday) of the project's time zone, from
Monday 00:00 local time up to (not including) the next Monday 00:00. Both ends are local
midnights built with :mod:`zoneinfo`, so a week containing a daylight-saving change is
167 or 169 hours long, as it is on the wall clock. Labels look like ``2026-W47``; the
ISO year of a week can differ from the calendar year of its days (``2026-W53`` ends on
Sunday 3 January 2027, and 29 December 2025 is in ``2026-W01``).
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, time, timedelta

__all__ = [
    "WeekError",
    "last_completed_week",
    "parse_week",
    "shift_week",
    "week_bounds",
    "week_label",
    "week_of",
    "week_span_text",
    "weeks_in_year",
]

_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """A week label or time zone that cannot be used; the message says which and why."""


def weeks_in_year(year: int) -> int:
    """Return 52 or 53: the number of ISO weeks of ISO year ``year``.

    28 December is always in the last ISO week of its year.
    """
    return date(year, 12, 28).isocalendar().week


def week_label(year: int, week: int) -> str:
    """Return the label ``YYYY-Www`` of ISO week ``week`` of ISO year ``year``."""
    return f"{year:04d}-W{week:02d}"


def parse_week(label: str) -> tuple[int, int]:
    """Return ``(iso_year, week)`` of a label such as ``2026-W47``.

    Raises
    ------
    WeekError
        The label is not ``YYYY-Www``, or the year has no such week (``2025-W53``).
    """
    match = _LABEL.match(str(label).strip())
    if match is None:
        raise WeekError(
            f"{label!r} is not an ISO week: expected YYYY-Www, e.g. 2026-W47 "
            "(four-digit year, a capital W, two-digit week)"
        )
    year, week = int(match.group(1)), int(match.group(2))
    if not 1 <= year <= 9998:
        raise WeekError(f"{label!r} is not an ISO week: the year must be 0001 to 9998")
    last = weeks_in_year(year)
    if not 1 <= week <= last:
        raise WeekError(f"{label!r} is not an ISO week: {year} has weeks W01 to W{last:02d}")
    return year, week


def _zone(time_zone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise WeekError(
            f"{time_zone!r} is not an IANA time zone name (e.g. Europe/Berlin)"
        ) from exc


def _monday(label: str) -> date:
    year, week = parse_week(label)
    return date.fromisocalendar(year, week, 1)


def week_bounds(label: str, time_zone: str) -> tuple[datetime, datetime]:
    """Return ``(start, end)`` of week ``label`` in ``time_zone``: aware, end exclusive.

    ``start`` is Monday 00:00 and ``end`` the next Monday 00:00, local time.

    Examples
    --------
    >>> start, end = week_bounds("2026-W43", "Europe/Berlin")  # clocks go back on 25 Oct
    >>> start.isoformat(), end.isoformat()
    ('2026-10-19T00:00:00+02:00', '2026-10-26T00:00:00+01:00')
    """
    zone = _zone(time_zone)
    monday = _monday(label)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return start, end


def week_of(instant: datetime, time_zone: str) -> str:
    """Return the label of the week that contains the aware ``instant`` in ``time_zone``."""
    if instant.tzinfo is None:
        raise WeekError(f"{instant!r} has no time zone; pass an aware datetime")
    local = instant.astimezone(_zone(time_zone)).date()
    iso = local.isocalendar()
    return week_label(iso.year, iso.week)


def last_completed_week(instant: datetime, time_zone: str) -> str:
    """Return the label of the last week that had ended by ``instant`` in ``time_zone``.

    On Monday 06:00 in Berlin, that is the week that ended six hours earlier.
    """
    return shift_week(week_of(instant, time_zone), -1)


def shift_week(label: str, weeks: int) -> str:
    """Return the label ``weeks`` weeks after ``label`` (before it when negative)."""
    iso = (_monday(label) + timedelta(weeks=weeks)).isocalendar()
    return week_label(iso.year, iso.week)


def week_span_text(label: str, time_zone: str) -> str:
    """Return the week's days in words, e.g. ``Mon 16 Nov – Sun 22 Nov 2026``."""
    monday = _monday(label)
    sunday = monday + timedelta(days=6)
    first = f"Mon {monday.day} {monday:%b}" + (
        f" {monday.year}" if monday.year != sunday.year else ""
    )
    return f"{first} – Sun {sunday.day} {sunday:%b} {sunday.year}"
