"""selectHost: the highest total wins; ties are broken by one draw from the seeded source, the same way
whether the totals are searched in Python or with numpy."""

from __future__ import annotations

import random
from array import array

import pytest

from engine.scheduler import select_host as module
from engine.scheduler.select_host import select_host


def _python_only(totals: list[int], source: random.Random) -> int:
    return select_host(list(totals), source)


def test_a_single_best_node_wins_without_drawing() -> None:
    source = random.Random(1)
    state = source.getstate()
    totals = array("q", [10] * 200)
    totals[137] = 11
    assert select_host(totals, source) == 137
    assert source.getstate() == state
    assert select_host(list(totals), source) == 137
    assert source.getstate() == state


@pytest.mark.parametrize("seed", range(40))
def test_the_vectorised_search_chooses_what_the_python_walk_chooses(seed: int) -> None:
    shuffle = random.Random(seed)
    size = shuffle.choice([module.VECTOR_MIN, 100, 500, 2000])
    totals = array("q", (shuffle.choice([0, 150, 190, 200, 200]) for _ in range(size)))
    vectorised = select_host(totals, random.Random(seed))
    walked = _python_only(list(totals), random.Random(seed))
    assert vectorised == walked
    assert totals[vectorised] == max(totals)


def test_every_tied_node_can_be_chosen_and_only_those() -> None:
    totals = array("q", [5, 9, 1, 9, 9] * 20)
    best = {i for i, value in enumerate(totals) if value == 9}
    chosen = {select_host(totals, random.Random(seed)) for seed in range(2000)}
    assert chosen == best


def test_short_lists_and_plain_lists_are_walked_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> int:
        raise AssertionError("numpy path used")

    monkeypatch.setattr(module, "_vectorised", refuse)
    assert select_host(array("q", [3, 7, 7, 1]), random.Random(0)) in (1, 2)
    assert select_host([0] * 500 + [1], random.Random(0)) == 500
