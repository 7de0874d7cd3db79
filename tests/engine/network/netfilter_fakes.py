"""A packet with the contract's fields (engine.network.packet may not exist yet) and a settable clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class FakePacket:
    src: str
    dst: str
    sport: int = 40000
    dport: int = 80
    proto: str = "TCP"
    payload: Any = None
    mark: int = 0
    in_iface: str | None = None
    out_iface: str | None = None
    outer: Any = None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
