"""Ages as kubectl prints them: apimachinery's ``duration.HumanDuration`` and ``ShortHumanDuration``.

Interface:

- ``human_duration(seconds)``: the AGE column and describe's event ages
  (``119s``, ``5m3s``, ``15m``, ``3h4m``, ``47h``, ``3d4h``, ``400d``, ``2y10d``).
- ``short_human_duration(seconds)``: one unit only (``5s``, ``4m``, ``3h``, ``2d``, ``1y``).
- ``age(cluster_now, timestamp)``: ``translateTimestampSince`` on the cluster's
  virtual clock; ``<unknown>`` for a missing timestamp.

Durations are truncated to whole units, never rounded, as Go's integer
division does. Up to one second in the future reads ``0s``; further is ``<invalid>``.
"""

from __future__ import annotations

from engine.api.meta import parse_timestamp


def _whole(seconds: float) -> int:
    """Go's ``int(d.Seconds())`` (toward zero), forgiving float noise of the virtual clock."""
    return int(seconds + 1e-6) if seconds >= 0 else int(seconds)


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``: two units while the second one still matters."""
    whole = _whole(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60 * 2:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rest == 0 else f"{hours // 24 // 365}y{rest}d"
    return f"{hours // 24 // 365}y"


def short_human_duration(seconds: float) -> str:
    """``duration.ShortHumanDuration``: the largest whole unit only."""
    whole = _whole(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60:
        return f"{whole}s"
    if whole // 60 < 60:
        return f"{whole // 60}m"
    hours = whole // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def age(now: float, timestamp: str | None) -> str:
    """``translateTimestampSince``: how long ago ``timestamp`` was, on the virtual clock."""
    if not timestamp:
        return "<unknown>"
    return human_duration(now - parse_timestamp(timestamp))
