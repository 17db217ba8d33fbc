"""The period of a report: whole UTC days, both inclusive, from ``?month=`` or ``?since=&until=``.

One reader for every service that reports by period (the quota service's KPI report, and the
figures the workshops and catalogue services give it), so that a period means the same days
everywhere and a bad one is refused with the same words.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from .webservice import ApiError

KPI_READ = "custom:kpi:read"  # the scope that reads every service's KPI figures (the quota service's report)
MAX_DAYS = 3 * 365 + 1  # three years, a leap day included
MONTH_PATTERN = r"([1-9][0-9]{3})-(0[1-9]|1[0-2])"  # openapi.yaml's pattern of month
_MONTH = re.compile(MONTH_PATTERN)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class PeriodError(ValueError):
    """A period that cannot be read: ``field`` names the query parameter at fault."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``since`` to ``until``, both inclusive."""

    since: dt.date
    until: dt.date

    @property
    def start(self) -> dt.datetime:
        """The first instant of the period (midnight UTC of ``since``)."""
        return dt.datetime.combine(self.since, dt.time(), dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period (midnight UTC after ``until``): the period is [start, end)."""
        if self.until == dt.date.max:  # no day after it: the last instant there is
            return dt.datetime.max.replace(tzinfo=dt.UTC)
        return dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), dt.UTC)

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.until - self.since).days + 1

    def query(self) -> str:
        """The period as query parameters (``since=…&until=…``)."""
        return f"since={self.since.isoformat()}&until={self.until.isoformat()}"

    def as_dict(self) -> dict:
        """The period as JSON reports give it."""
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "days": self.days}


def month_period(text: str) -> Period:
    """The calendar month ``YYYY-MM``."""
    match = _MONTH.fullmatch(text)
    if not match:
        raise PeriodError("month", f"{text!r} is not a month as YYYY-MM (e.g. 2026-11)")
    year, month = int(match.group(1)), int(match.group(2))
    return Period(dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]))


def _day(field: str, text: str) -> dt.date:
    if not _DAY.fullmatch(text):
        raise PeriodError(field, f"{text!r} is not a date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(field, f"{text!r} is not a date of the calendar") from None


def read_period(month: str | None, since: str | None, until: str | None, today: dt.date) -> Period:
    """The period a request names: ``month``, or ``since`` and ``until`` together; the month of
    ``today`` when it names none. Raises :class:`PeriodError` naming the parameter at fault."""
    if month is not None:
        if since is not None or until is not None:
            raise PeriodError("month", "give either month or since and until, not both")
        return month_period(month)
    if since is None and until is None:
        return month_period(today.strftime("%Y-%m"))
    if since is None or until is None:
        missing = "since" if since is None else "until"
        raise PeriodError(missing, "give since and until together (YYYY-MM-DD, both inclusive)")
    period = Period(_day("since", since), _day("until", until))
    if period.until < period.since:
        raise PeriodError("until", f"{until} is before since ({since})")
    if period.days > MAX_DAYS:
        raise PeriodError("until", f"the period has {period.days} days; at most {MAX_DAYS} (three years) are allowed")
    return period


def requested_period(handler, today: dt.date) -> Period:
    """The period a JSON handler's query names (:func:`read_period`), or a 400 naming the parameter."""
    try:
        return read_period(handler.query("month"), handler.query("since"), handler.query("until"), today)
    except PeriodError as err:
        raise ApiError(400, str(err), err.field) from None
