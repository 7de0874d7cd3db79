"""Fixtures: a settable clock and a Netfilter that knows 172.18.0.3 as local."""

from __future__ import annotations

import random

import pytest

from engine.network.netfilter import Netfilter
from netfilter_fakes import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def netfilter(clock: Clock) -> Netfilter:
    return Netfilter(clock, random.Random(7), is_local=lambda address: address == "172.18.0.3")
