"""robfig/cron's Next and the CronJob controller's schedule arithmetic, on virtual time."""

import datetime as dt

import pytest

from engine.api.meta import timestamp
from engine.controllers import cronjob_schedule as schedules

UTC = dt.timezone.utc


def at(text: str) -> float:
    """Virtual seconds of a UTC wall-clock time."""
    return schedules.from_datetime(dt.datetime.fromisoformat(text).replace(tzinfo=UTC))


def wall(seconds: float, zone: str = "UTC") -> str:
    return schedules.to_datetime(seconds).astimezone(schedules.load_location(zone)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("schedule, after, expected", [
    ("*/1 * * * *", "2025-01-01 00:00:00", "2025-01-01 00:01:00"),
    ("*/1 * * * *", "2025-01-01 00:00:30", "2025-01-01 00:01:00"),
    ("*/1 * * * *", "2025-01-01 00:00:59", "2025-01-01 00:01:00"),
    ("*/15 * * * *", "2025-01-01 00:15:00", "2025-01-01 00:30:00"),
    ("@hourly", "2025-01-01 00:00:00", "2025-01-01 01:00:00"),
    ("@daily", "2025-01-01 23:59:59", "2025-01-02 00:00:00"),
    ("@weekly", "2025-01-01 00:00:00", "2025-01-05 00:00:00"),
    ("@monthly", "2025-01-31 12:00:00", "2025-02-01 00:00:00"),
    ("@yearly", "2025-01-01 00:00:00", "2026-01-01 00:00:00"),
    ("0 9 * * mon-fri", "2025-01-03 10:00:00", "2025-01-06 09:00:00"),
    ("0 0 13 * 5", "2025-01-01 00:00:00", "2025-01-03 00:00:00"),
    ("0 0 29 2 *", "2025-01-01 00:00:00", "2028-02-29 00:00:00"),
    ("@every 90s", "2025-01-01 00:00:10", "2025-01-01 00:01:40"),
], ids=[
    "every minute: the next whole minute",
    "from half a minute: the next whole minute",
    "one second before a minute: that minute",
    "strictly after: a start at the very instant is not the next one",
    "@hourly is minute 0 of every hour",
    "@daily is midnight",
    "@weekly is Sunday midnight",
    "@monthly crosses into the next month",
    "@yearly is New Year",
    "weekdays at nine skip the weekend",
    "day 13 or a Friday: either restricted day field will do",
    "February 29 waits for a leap year",
    "@every is a constant delay from the last start",
])
def test_next_time(schedule, after, expected):
    assert wall(schedules.next_time(schedules.parse(schedule), at(after))) == expected


def test_a_schedule_that_never_fires_has_no_next_time():
    assert schedules.next_time(schedules.parse("0 0 31 2 *"), at("2025-01-01 00:00:00")) is None


def test_a_time_zone_moves_the_start_to_that_zones_wall_clock():
    schedule = schedules.parse("TZ=Asia/Seoul 0 9 * * *")
    start = schedules.next_time(schedule, at("2024-12-31 12:00:00"))
    assert (wall(start, "Asia/Seoul"), wall(start)) == ("2025-01-01 09:00:00", "2025-01-01 00:00:00")


def test_a_time_zone_with_daylight_saving_keeps_the_local_hour():
    schedule = schedules.parse("TZ=America/New_York 30 8 * * *")
    winter = schedules.next_time(schedule, at("2025-03-08 00:00:00"))
    summer = schedules.next_time(schedule, winter)
    assert (wall(winter), wall(summer)) == ("2025-03-08 13:30:00", "2025-03-09 12:30:00")


def test_format_schedule_adds_the_time_zone_and_a_bad_zone_is_refused():
    cronjob = {"spec": {"schedule": "0 * * * *", "timeZone": "Europe/Paris"}}
    assert schedules.format_schedule(cronjob) == "TZ=Europe/Paris 0 * * * *"
    with pytest.raises(ValueError, match="unknown time zone Mars/Base"):
        schedules.load_location("Mars/Base")
    with pytest.raises(ValueError, match="provided bad location Mars/Base"):
        schedules.parse("TZ=Mars/Base 0 * * * *")


def cronjob(created: str, *, last: str | None = None, deadline: int | None = None) -> dict:
    obj = {"metadata": {"name": "hello", "creationTimestamp": timestamp(at(created))},
           "spec": {"schedule": "*/1 * * * *"}, "status": {}}
    if last:
        obj["status"]["lastScheduleTime"] = timestamp(at(last))
    if deadline is not None:
        obj["spec"]["startingDeadlineSeconds"] = deadline
    return obj


EVERY_MINUTE = schedules.parse("*/1 * * * *")


@pytest.mark.parametrize("obj, now, expected, missed", [
    (cronjob("2025-01-01 00:00:10"), "2025-01-01 00:00:50", None, "none"),
    (cronjob("2025-01-01 00:00:10"), "2025-01-01 00:01:00", "2025-01-01 00:01:00", "none"),
    (cronjob("2025-01-01 00:00:10", last="2025-01-01 00:01:00"), "2025-01-01 00:01:30", None, "none"),
    (cronjob("2025-01-01 00:00:10", last="2025-01-01 00:01:00"), "2025-01-01 00:05:10", "2025-01-01 00:05:00",
     "few"),
    (cronjob("2025-01-01 00:00:10"), "2025-01-01 03:00:00", "2025-01-01 03:00:00", "many"),
    (cronjob("2025-01-01 00:00:10", deadline=200), "2025-01-01 03:00:30", "2025-01-01 03:00:00", "few"),
], ids=[
    "nothing is due before the first start",
    "the first start is due at its minute",
    "a start already made is not due again",
    "after missed starts, only the most recent one is due",
    "more than 100 missed starts are many",
    "startingDeadlineSeconds counts only the starts inside the deadline",
])
def test_next_schedule_time(obj, now, expected, missed):
    scheduled, how_many = schedules.next_schedule_time(obj, at(now), EVERY_MINUTE)
    assert (wall(scheduled) if scheduled is not None else None, how_many.value) == (expected, missed)


def test_the_next_look_is_100ms_after_the_next_start():
    obj = cronjob("2025-01-01 00:00:10", last="2025-01-01 00:01:00")
    assert schedules.next_schedule_time_duration(obj, at("2025-01-01 00:01:20"), EVERY_MINUTE) == pytest.approx(40.1)


def test_a_schedule_that_never_fires_is_an_invalid_schedule():
    with pytest.raises(schedules.InvalidSchedule, match="less than 1 second"):
        schedules.next_schedule_time(cronjob("2025-01-01 00:00:00"), at("2025-06-01 00:00:00"),
                                     schedules.parse("0 0 31 2 *"))


def test_job_names_count_minutes_since_the_unix_epoch():
    assert schedules.job_name("hello", at("2025-01-01 00:01:00")) == "hello-28928161"


@pytest.mark.parametrize("zone, expected", [
    ("UTC", "2025-01-01T00:01:00Z"), ("Asia/Seoul", "2025-01-01T09:01:00+09:00"),
], ids=["UTC is written with Z", "another zone with its offset"])
def test_the_scheduled_timestamp_annotation_is_rfc3339_in_the_zone(zone, expected):
    assert schedules.scheduled_timestamp(at("2025-01-01 00:01:00"), schedules.load_location(zone)) == expected
