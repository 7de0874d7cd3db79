"""Cron schedules: ``github.com/robfig/cron/v3``'s ``ParseStandard``, as CronJob validation uses it.

``parse_schedule`` accepts what the real API server accepts (five fields,
names for months and weekdays, ranges, steps, ``?``, the ``@hourly``-style
descriptors, ``@every <duration>``, a ``TZ=`` prefix) and raises
``ValueError`` with the parser's own message otherwise. The result, a
``CronSchedule``, holds the sets of minutes, hours, days, months and weekdays
and answers ``matches`` with cron's rule for the two day fields (either one
will do when both are restricted). The CronJob controller reads it to find
the next run; nothing here knows about time zones or clocks.
"""

from __future__ import annotations

import math
import re

from engine.api.selectors import go_quote

_CRON_BOUNDS = ((0, 59, None), (0, 23, None), (1, 31, None),
                (1, 12, {n: i + 1 for i, n in enumerate(
                    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}),
                (0, 6, {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}))
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


class CronSchedule:
    """A parsed five-field schedule: the sets of minutes, hours, days of month, months and weekdays."""

    def __init__(self, minutes: frozenset[int], hours: frozenset[int], days: frozenset[int], months: frozenset[int],
                 weekdays: frozenset[int], day_star: bool, weekday_star: bool, every: float | None = None) -> None:
        self.minutes, self.hours, self.days, self.months, self.weekdays = minutes, hours, days, months, weekdays
        self.day_star, self.weekday_star, self.every = day_star, weekday_star, every

    def matches(self, minute: int, hour: int, day: int, month: int, weekday: int) -> bool:
        """Whether a wall-clock minute is scheduled (weekday 0 is Sunday), as cron's day rule says."""
        if minute not in self.minutes or hour not in self.hours or month not in self.months:
            return False
        day_ok, weekday_ok = day in self.days, weekday in self.weekdays
        if self.day_star or self.weekday_star:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def _cron_int(expr: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", expr):
        raise ValueError(f"failed to parse int from {expr}: strconv.Atoi: parsing {go_quote(expr)}: invalid syntax")
    number = int(expr)
    if number < 0:
        raise ValueError(f"negative number ({number}) not allowed: {expr}")
    return number


def _cron_range(expr: str, low: int, high: int, names: dict[str, int] | None) -> tuple[set[int], bool]:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    star = False
    if low_and_high[0] in ("*", "?"):
        start, end, star = low, high, True
    else:
        def value(text: str) -> int:
            if names and text.lower() in names:
                return names[text.lower()]
            return _cron_int(text)
        start = value(low_and_high[0])
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = value(low_and_high[1])
        else:
            raise ValueError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _cron_int(range_and_step[1])
        if len(low_and_high) == 1:
            end = high  # "N/step" means "N-max/step"
        if step > 1:
            star = False
    else:
        raise ValueError(f"too many slashes: {expr}")
    if start < low:
        raise ValueError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ValueError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def parse_schedule(schedule: str) -> CronSchedule:
    """Parse a CronJob schedule as ``cron.ParseStandard`` does; errors are its messages, as ``ValueError``."""
    if not schedule:
        raise ValueError("empty spec string")
    spec = schedule
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        _, _, spec = spec.partition(" ")  # the zone only matters to the controller
        spec = spec.strip()
    if spec.startswith("@"):
        if spec.startswith("@every "):
            duration = spec[len("@every "):]
            if not re.fullmatch(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+", duration):
                raise ValueError(f"failed to parse duration {spec}: time: invalid duration {go_quote(duration)}")
            return _every(duration)
        if spec not in _DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    sets, stars = [], []
    for text, (low, high, names) in zip(fields, _CRON_BOUNDS):
        values: set[int] = set()
        star_any = False
        for part in text.split(","):
            part_values, star = _cron_range(part, low, high, names)
            values |= part_values
            star_any = star_any or star
        sets.append(frozenset(values))
        stars.append(star_any)
    return CronSchedule(*sets, day_star=stars[2], weekday_star=stars[4])


def _every(duration: str) -> CronSchedule:
    total = 0.0
    for amount, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)", duration):
        total += float(amount) * {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[unit]
    everything = frozenset
    return CronSchedule(everything(range(60)), everything(range(24)), everything(range(1, 32)),
                        everything(range(1, 13)), everything(range(7)), True, True, every=math.floor(total) or total)
