"""KeyIndex: point operations as a dict, ordered reads that always see exactly the current keys, sorted."""

from __future__ import annotations

import random

import pytest

from engine.store.keyindex import KeyIndex


def _check(index: KeyIndex, model: dict[str, int]) -> None:
    keys = sorted(model)
    assert index.keys() == keys
    assert index.items() == [(key, model[key]) for key in keys]
    assert index.values() == [model[key] for key in keys]
    assert len(index) == len(model) and bool(index) == bool(model)
    for probe in ("", "/a", "/m/", "/z/zz", "~"):
        position = index.bisect_left(probe)
        assert position == sum(1 for key in keys if key < probe)
        assert index.keys_between(position, len(keys)) == [key for key in keys if key >= probe]
        assert index.values_between(0, position) == [model[key] for key in keys if key < probe]
        assert list(index.irange(probe, "/n")) == [key for key in keys if probe <= key < "/n"]
        assert list(index.irange(probe, None)) == [key for key in keys if key >= probe]


def test_ordered_reads_follow_inserts_deletes_and_recreates() -> None:
    rng = random.Random(7)
    index, model = KeyIndex(), {}
    names = [f"/{rng.choice('abmnz')}/{rng.randrange(60):02d}" for _ in range(200)]
    for step in range(600):
        key = rng.choice(names)
        action = rng.random()
        if action < 0.55:
            index[key] = model[key] = step
        elif action < 0.8 and key in model:
            if rng.random() < 0.5:
                del index[key]
            else:
                assert index.pop(key) == model[key]
            del model[key]
        else:
            assert index.get(key) == model.get(key)
            assert (key in index) == (key in model)
        if step % 37 == 0:              # ordered reads in between: keys fresh and already sorted both occur
            _check(index, model)
    _check(index, model)


def test_a_key_deleted_before_any_ordered_read_never_shows() -> None:
    index = KeyIndex()
    index["/b"] = 1
    index["/a"] = 2
    del index["/b"]                     # never sorted in
    index["/c"] = 3
    assert index.keys() == ["/a", "/c"]
    del index["/a"]                     # sorted in by the read above
    index["/a"] = 4                     # and written again
    assert index.items() == [("/a", 4), ("/c", 3)]


def test_missing_keys_raise_or_default_as_a_dict_does() -> None:
    index = KeyIndex()
    with pytest.raises(KeyError):
        index.pop("/x")
    with pytest.raises(KeyError):
        del index["/x"]
    with pytest.raises(KeyError):
        index["/x"]
    assert index.pop("/x", None) is None
    assert index.get("/x", 5) == 5
