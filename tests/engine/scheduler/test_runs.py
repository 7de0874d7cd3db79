"""memo.Runs: the feasible nodes read in place over runs of the cache's node list."""

import pytest
from hypothesis import given, settings, strategies as st

from engine.scheduler.memo import Runs


def _runs(size: int, cuts: list[int]) -> list[tuple[int, int]]:
    points = sorted(set(min(c, size) for c in cuts))
    return [(low, high) for low, high in zip(points[::2], points[1::2]) if low < high]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 40), st.lists(st.integers(0, 40), max_size=10))
def test_runs_read_like_the_copied_list(size, cuts):
    base = [f"node-{i}" for i in range(size)]
    runs = _runs(size, cuts)
    copied = [item for low, high in runs for item in base[low:high]]
    view = Runs(base, runs)
    assert len(view) == len(copied)
    assert list(view) == copied
    assert bool(view) == bool(copied)
    assert [view[i] for i in range(len(copied))] == copied
    assert [view[-i] for i in range(1, len(copied) + 1)] == [copied[-i] for i in range(1, len(copied) + 1)]
    assert view[1:3] == copied[1:3]
    for item in copied:
        assert item in view and view.index(item) == copied.index(item)


def test_runs_refuse_positions_past_either_end():
    view = Runs(["a", "b", "c", "d"], [(1, 2), (3, 4)])
    assert list(view) == ["b", "d"]
    with pytest.raises(IndexError):
        view[2]
    with pytest.raises(IndexError):
        view[-3]
