"""When a CronJob runs: robfig/cron's ``Schedule.Next`` on the virtual clock, and the CronJob controller's arithmetic.

Two upstream parts, both pure functions of plain data:

- ``next_time(schedule, after, zone)`` is ``github.com/robfig/cron/v3``'s
  ``SpecSchedule.Next`` (and ``ConstantDelaySchedule.Next`` for ``@every``):
  the first scheduled instant strictly after ``after``, searched field by
  field (month, day, hour, minute) in the schedule's time zone, giving up
  (``None``) five years ahead, as robfig does for schedules such as
  ``0 0 31 2 *`` that never fire;
- ``most_recent_schedule_time``, ``next_schedule_time`` and
  ``next_schedule_time_duration`` are ``pkg/controller/cronjob/utils.go``:
  the latest start the controller has missed (counting missed starts the
  upstream way, by the interval between the next two starts, and calling
  more than 100 of them "many"), honouring ``startingDeadlineSeconds``, and
  how long to wait before the next one (plus upstream's 100 ms
  ``nextScheduleDelta``).

Times are virtual seconds (``engine.sim`` time, ``engine.api.meta.EPOCH`` at
0). Nothing here reads a clock, writes an object or records an event: the
controller passes ``now`` in and decides what to do with the answers.
"""

from __future__ import annotations

import datetime as _dt
import math
import zoneinfo
from dataclasses import dataclass
from enum import Enum

from engine.api.meta import EPOCH, parse_timestamp
from engine.api.validation.cron import CronSchedule, parse_schedule

NEXT_SCHEDULE_DELTA = 0.1
"""nextScheduleDelta: requeue 100 ms after a start is due, so clock skew never makes it look early."""

MANY_MISSED = 100
"""More missed starts than this is "too many" (a TooManyMissedTimes warning)."""

YEARS_AHEAD = 5
"""robfig's yearLimit: Next gives up on a schedule that matches nothing within five years."""

_UTC = _dt.timezone.utc
_MINUTE = _dt.timedelta(minutes=1)
_HOUR = _dt.timedelta(hours=1)


class MissedSchedules(Enum):
    """missedSchedulesType: none, a few, or many (more than 100) missed starts."""

    NONE = "none"
    FEW = "few"
    MANY = "many"


class InvalidSchedule(ValueError):
    """A schedule that parses but makes no sense, as upstream's "less than 1 second" error."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule with the time zone it runs in (robfig's ``Location``)."""

    spec: CronSchedule
    zone: _dt.tzinfo


# -- parsing (formatSchedule + cron.ParseStandard) ---------------------------------

def load_location(name: str) -> _dt.tzinfo:
    """Go's ``time.LoadLocation``: "" and "UTC" are UTC; otherwise the IANA database, or ``ValueError``."""
    if name in ("", "UTC"):
        return _UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name}") from None


def format_schedule(cronjob: dict) -> str:
    """formatSchedule: the schedule string the controller parses (``TZ=<timeZone> ...`` when a zone is set)."""
    spec = cronjob.get("spec") or {}
    schedule = spec.get("schedule") or ""
    if "TZ" in schedule:
        return schedule
    time_zone = spec.get("timeZone")
    if time_zone is not None:
        try:
            load_location(time_zone)
        except ValueError:
            return schedule
        return f"TZ={time_zone} {schedule}"
    return schedule


def parse(schedule: str) -> Schedule:
    """cron.ParseStandard with the zone: a ``TZ=`` / ``CRON_TZ=`` prefix names it, else UTC."""
    zone: _dt.tzinfo = _UTC
    text = schedule
    for prefix in ("TZ=", "CRON_TZ="):
        if text.startswith(prefix):
            name, _, text = text[len(prefix):].partition(" ")
            try:
                zone = load_location(name)
            except ValueError as error:
                raise ValueError(f"provided bad location {name}: {error}") from None
            text = text.strip()
            break
    return Schedule(parse_schedule(text), zone)


# -- robfig/cron Next -----------------------------------------------------------------

def to_datetime(seconds: float) -> _dt.datetime:
    """The UTC wall-clock time of a virtual instant."""
    return EPOCH + _dt.timedelta(seconds=seconds)


def from_datetime(moment: _dt.datetime) -> float:
    return (moment - EPOCH).total_seconds()


def _add_absolute(moment: _dt.datetime, delta: _dt.timedelta, zone: _dt.tzinfo) -> _dt.datetime:
    """Go's ``t.Add``: elapsed time, not wall-clock time (they differ across a DST change)."""
    return (moment.astimezone(_UTC) + delta).astimezone(zone)


def _days(spec: CronSchedule, day: int, weekday: int) -> bool:
    """robfig's dayMatches: when either day field is a star, both must match; otherwise either will do."""
    day_ok, weekday_ok = day in spec.days, weekday in spec.weekdays
    if spec.day_star or spec.weekday_star:
        return day_ok and weekday_ok
    return day_ok or weekday_ok


def next_time(schedule: Schedule, after: float) -> float | None:
    """The first scheduled instant strictly after ``after`` (whole seconds), or None if none within 5 years."""
    spec, zone = schedule.spec, schedule.zone
    if spec.every is not None:                      # ConstantDelaySchedule: whole seconds, at least one
        delay = max(1, math.floor(spec.every))
        return math.floor(after) + delay
    start = math.floor(after) + 1                   # robfig: one second on, then the first whole minute
    start = math.ceil(start / 60) * 60
    moment = to_datetime(start).astimezone(zone)
    year_limit = moment.year + YEARS_AHEAD
    while True:                                     # WRAP
        if moment.year > year_limit:
            return None
        if moment.month not in spec.months:
            moment = _next_month(moment, zone)
            continue
        if not _days(spec, moment.day, (moment.weekday() + 1) % 7):
            moment = _next_day(moment, zone)
            continue
        if moment.hour not in spec.hours:
            moment = _add_absolute(moment.replace(minute=0, second=0), _HOUR, zone)
            continue
        if moment.minute not in spec.minutes:
            moment = _add_absolute(moment.replace(second=0), _MINUTE, zone)
            continue
        return from_datetime(moment.astimezone(_UTC))


def _next_month(moment: _dt.datetime, zone: _dt.tzinfo) -> _dt.datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return _dt.datetime(year, month, 1, tzinfo=zone)


def _next_day(moment: _dt.datetime, zone: _dt.tzinfo) -> _dt.datetime:
    day = _dt.date(moment.year, moment.month, moment.day) + _dt.timedelta(days=1)
    return _dt.datetime(day.year, day.month, day.day, tzinfo=zone)


# -- the controller's arithmetic (utils.go) ---------------------------------------------

def _earliest_time(cronjob: dict, now: float, include_starting_deadline: bool) -> float:
    """The last schedule time, else the creation time, moved up to ``now - startingDeadlineSeconds``."""
    metadata, spec, status = cronjob.get("metadata") or {}, cronjob.get("spec") or {}, cronjob.get("status") or {}
    earliest = parse_timestamp(metadata["creationTimestamp"]) if metadata.get("creationTimestamp") else now
    if status.get("lastScheduleTime"):
        earliest = parse_timestamp(status["lastScheduleTime"])
    deadline = spec.get("startingDeadlineSeconds")
    if include_starting_deadline and deadline is not None:
        earliest = max(earliest, now - deadline)
    return earliest


def most_recent_schedule_time(cronjob: dict, now: float, schedule: Schedule, include_starting_deadline: bool
                              ) -> tuple[float, float | None, MissedSchedules]:
    """mostRecentScheduleTime: (earliest time, the latest start due by ``now`` or None, how many were missed).

    Raises ``InvalidSchedule`` for a schedule whose next two starts are less
    than a second apart, or that never fires (``59 23 31 2 *``), as upstream does.
    """
    earliest = _earliest_time(cronjob, now, include_starting_deadline)
    missed = MissedSchedules.NONE
    t1 = next_time(schedule, earliest)
    t2 = next_time(schedule, t1) if t1 is not None else None
    if t1 is not None and now < t1:
        return earliest, None, missed
    if t1 is not None and t2 is not None and now < t2:
        return earliest, t1, missed
    # robfig's Next answers the zero time for a schedule that never fires: then the gap is not positive.
    between = round(t2 - t1) if t1 is not None and t2 is not None else 0
    if between < 1:
        raise InvalidSchedule("time difference between two schedules is less than 1 second")
    # Upstream's rough count: how many intervals fit between the first missed start and now.
    number_missed = int(now - t1) // between + 1
    potential_earliest = t1 + (number_missed - 2) * between
    most_recent: float | None = None
    moment = next_time(schedule, potential_earliest)
    while moment is not None and moment <= now:
        most_recent = moment
        moment = next_time(schedule, moment)
    if number_missed > MANY_MISSED:
        missed = MissedSchedules.MANY
    elif number_missed > 0:
        missed = MissedSchedules.FEW
    return earliest, most_recent, missed


def next_schedule_time(cronjob: dict, now: float, schedule: Schedule) -> tuple[float | None, MissedSchedules]:
    """nextScheduleTime: the start to run now (None if none is due) and whether many were missed."""
    _, most_recent, missed = most_recent_schedule_time(cronjob, now, schedule, True)
    if most_recent is None or most_recent > now:
        return None, missed
    return most_recent, missed


def next_schedule_time_duration(cronjob: dict, now: float, schedule: Schedule) -> float | None:
    """nextScheduleTimeDuration: seconds until the next start is due, plus ``NEXT_SCHEDULE_DELTA``.

    None for a schedule that never fires again (there is nothing to wait for).
    """
    try:
        earliest, most_recent, missed = most_recent_schedule_time(cronjob, now, schedule, False)
    except InvalidSchedule:
        most_recent, missed, earliest = now, MissedSchedules.NONE, now
    if most_recent is None:
        most_recent = earliest if missed is MissedSchedules.NONE else now
    following = next_time(schedule, most_recent)
    if following is None:
        return None
    return following + NEXT_SCHEDULE_DELTA - now


def job_name(cronjob_name: str, scheduled: float) -> str:
    """getJobName: ``<cronjob>-<scheduled time in minutes since the Unix epoch>``."""
    return f"{cronjob_name}-{int(to_datetime(scheduled).timestamp()) // 60}"


def scheduled_timestamp(scheduled: float, zone: _dt.tzinfo) -> str:
    """The ``batch.kubernetes.io/cronjob-scheduled-timestamp`` value: RFC 3339 in the CronJob's zone."""
    moment = to_datetime(scheduled).astimezone(zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S%z")
    if text.endswith("+0000"):
        return text[:-5] + "Z"
    return f"{text[:-2]}:{text[-2:]}"
