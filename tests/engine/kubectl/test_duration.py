"""Ages as apimachinery's duration.HumanDuration and ShortHumanDuration print them."""

from __future__ import annotations

import pytest

from engine.kubectl.duration import age, human_duration, short_human_duration


@pytest.mark.parametrize("seconds, expected", [
    pytest.param(0, "0s", id="zero seconds is 0s"),
    pytest.param(-1, "0s", id="one second in the future is tolerated as 0s"),
    pytest.param(-2, "<invalid>", id="two seconds in the future is invalid"),
    pytest.param(59, "59s", id="under a minute shows seconds"),
    pytest.param(119, "119s", id="under two minutes still shows seconds"),
    pytest.param(120, "2m", id="two whole minutes drop the seconds"),
    pytest.param(303, "5m3s", id="under ten minutes shows minutes and seconds"),
    pytest.param(600, "10m", id="ten minutes shows minutes only"),
    pytest.param(179 * 60 + 59, "179m", id="under three hours still shows minutes"),
    pytest.param(3 * 3600 + 4 * 60 + 5, "3h4m", id="under eight hours shows hours and minutes"),
    pytest.param(5 * 3600, "5h", id="whole hours drop the minutes"),
    pytest.param(47 * 3600 + 3599, "47h", id="under two days shows hours"),
    pytest.param(3 * 86400 + 4 * 3600, "3d4h", id="under eight days shows days and hours"),
    pytest.param(400 * 86400, "400d", id="under two years shows days"),
    pytest.param(2 * 365 * 86400 + 10 * 86400, "2y10d", id="under eight years shows years and days"),
    pytest.param(9 * 365 * 86400, "9y", id="eight years and more shows years"),
])
def test_human_duration(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


@pytest.mark.parametrize("seconds, expected", [
    pytest.param(5, "5s", id="seconds under a minute"),
    pytest.param(119, "1m", id="minutes are truncated"),
    pytest.param(3 * 3600 + 5, "3h", id="hours only"),
    pytest.param(3 * 86400, "3d", id="days only"),
    pytest.param(800 * 86400, "2y", id="years only"),
])
def test_short_human_duration(seconds: float, expected: str) -> None:
    assert short_human_duration(seconds) == expected


def test_age_reads_the_virtual_clock_and_tolerates_float_noise() -> None:
    assert age(65.0 - 1e-9, "2025-01-01T00:00:00Z") == "65s"
    assert age(10, None) == "<unknown>"
