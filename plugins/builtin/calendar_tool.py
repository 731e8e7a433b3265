"""calendar: weekdays, date arithmetic, business days, month views, ISO weeks, time zones."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from tansuo.plugins.tool import ToolError

Clock = Callable[[], dt.datetime]
Zone = Annotated[str, Field(max_length=64, description="IANA time zone, e.g. Europe/Paris, UTC")]
_WRITTEN = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d %B, %Y")


def written_date(value: object) -> object:
    """A date as people write it (2025-03-03, 3 March 2025, March 3, 2025, 3 Mar 2025, 3rd March
    2025), so a caller copies the request's date instead of rewriting it: a small model rewriting
    "2 May 2019" as ISO under the date grammar often writes 2019-05-22. Numeric forms other than ISO
    (03/04/2025) are ambiguous and refused."""
    if not isinstance(value, str):
        return value
    text = re.sub(r"(?<=\d)(st|nd|rd|th)\b", "", " ".join(value.split()))
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _WRITTEN:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {value!r}; write it as 2025-03-03 or 3 March 2025")


Day = Annotated[dt.date, BeforeValidator(written_date),
                WithJsonSchema({"type": "string", "minLength": 8, "maxLength": 40,
                                "description": "a date as written, e.g. 2025-03-03 or 3 March 2025"})]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Weekday(_Op):
    operation: Literal["weekday"]
    date: Day


class DaysBetween(_Op):
    operation: Literal["days_between"]
    start: Day
    end: Day
    business_days: bool = Field(False, description="count Monday-Friday only (end excluded)")


class AddTime(_Op):
    operation: Literal["add"]
    date: Day
    days: int = Field(0, ge=-100_000, le=100_000)
    weeks: int = Field(0, ge=-10_000, le=10_000)
    months: int = Field(0, ge=-10_000, le=10_000)
    years: int = Field(0, ge=-1000, le=1000)
    business_days: int = Field(0, ge=-100_000, le=100_000)


class MonthView(_Op):
    operation: Literal["month_view"]
    year: int = Field(ge=1, le=9999)
    month: int = Field(ge=1, le=12)


class IsoWeek(_Op):
    operation: Literal["iso_week"]
    date: Day


class ConvertTime(_Op):
    operation: Literal["convert_time"]
    datetime: dt.datetime = Field(description="ISO date and time, e.g. 2025-03-03T09:30")
    from_tz: Zone = "UTC"
    to_tz: Zone


class Today(_Op):
    operation: Literal["today"]
    tz: Zone = "UTC"


CalendarRequest = Annotated[Weekday | DaysBetween | AddTime | MonthView | IsoWeek | ConvertTime | Today,
                            Field(discriminator="operation")]


def make_calendar(clock: Clock) -> Callable[[CalendarRequest], dict]:
    """The calendar tool reading "now" from `clock` (injectable for tests and evals)."""

    def calendar(request: CalendarRequest) -> dict:
        """Dates and times: weekday of a date, days (or business days) between two dates, add days,
        weeks, months, years or business days to a date, a month's calendar, the ISO week of a date,
        convert a time between time zones, and today's date.

        Dates are ISO (2025-03-03); time zones are IANA names (Asia/Shanghai).
        """
        if isinstance(request, Today):
            now = clock().astimezone(_zone(request.tz))
            return {"date": now.date().isoformat(), "weekday": now.strftime("%A"), "time": now.strftime("%H:%M")}
        return _HANDLERS[type(request)](request)

    return calendar


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _weekday(r: Weekday) -> dict:
    return {"date": r.date.isoformat(), "weekday": r.date.strftime("%A")}


def _days_between(r: DaysBetween) -> dict:
    if r.business_days:
        return {"business_days": int(np.busday_count(r.start, r.end))}
    return {"days": (r.end - r.start).days}


def _add(r: AddTime) -> dict:
    result = _add_months(r.date, r.months + 12 * r.years) + dt.timedelta(days=r.days, weeks=r.weeks)
    if r.business_days:
        result = np.busday_offset(result, r.business_days, roll="forward").astype(dt.date)
    return {"date": result.isoformat(), "weekday": result.strftime("%A")}


def _add_months(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ToolError("the resulting date is out of range")
    day = min(start.day, _calendar.monthrange(year, month + 1)[1])  # Jan 31 + 1 month = Feb 28/29
    return dt.date(year, month + 1, day)


def _month_view(r: MonthView) -> dict:
    return {"text": _calendar.TextCalendar().formatmonth(r.year, r.month),
            "days": _calendar.monthrange(r.year, r.month)[1],
            "first_weekday": dt.date(r.year, r.month, 1).strftime("%A")}


def _iso_week(r: IsoWeek) -> dict:
    year, week, weekday = r.date.isocalendar()
    return {"iso_year": year, "week": week, "weekday": weekday}


def _convert_time(r: ConvertTime) -> dict:
    source = r.datetime if r.datetime.tzinfo else r.datetime.replace(tzinfo=_zone(r.from_tz))
    converted = source.astimezone(_zone(r.to_tz))
    return {"datetime": converted.isoformat(), "tz": r.to_tz}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"unknown time zone {name!r}; use an IANA name such as Europe/Paris") from None


_HANDLERS = {Weekday: _weekday, DaysBetween: _days_between, AddTime: _add, MonthView: _month_view,
             IsoWeek: _iso_week, ConvertTime: _convert_time}


def reads(arguments: dict, result: dict) -> str | None:
    """"3 March 2025 is a Monday." / "There are 45 days between ... and ...."."""
    request = arguments.get("request", {})
    operation = request.get("operation")
    if operation == "weekday":
        return f"{_day(result['date'])} is a {result['weekday']}."
    if operation == "days_between":
        count = result.get("business_days", result.get("days"))
        kind = "business days" if "business_days" in result else "days"
        return f"There are {count:,} {kind} between {_day(request['start'])} and {_day(request['end'])}."
    if operation == "add":
        return f"It is {result['weekday']}, {_day(result['date'])}."
    if operation == "today":
        return f"Today is {result['weekday']}, {_day(result['date'])}; the time is {result['time']}."
    if operation == "iso_week":
        return f"{_day(request['date'])} is in ISO week {result['week']} of {result['iso_year']}."
    if operation == "convert_time":
        when = dt.datetime.fromisoformat(result["datetime"])
        return f"That is {when:%H:%M} on {_day(when.date().isoformat())} in {result['tz']}."
    return None


def _day(value: str) -> str:
    """An ISO date as people write it ("3 March 2025"); anything else as given."""
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%B %Y}"
