"""Simulation kernel: the virtual clock, the deterministic event loop, the real-time driver."""

from engine.sim.loop import Loop, Timer
from engine.sim.realtime import RealtimeDriver

__all__ = ["Loop", "Timer", "RealtimeDriver"]
