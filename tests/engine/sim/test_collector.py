"""The collector setting a cluster asks for: full collections spaced out, nothing else changed."""

from __future__ import annotations

import gc

import pytest

import engine
from engine.sim.collector import FULL_COLLECTION_SPACING, tune_collector


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_a_cluster_spaces_full_collections_and_keeps_the_young_generations(thresholds):
    gc.set_threshold(700, 10, 10)
    engine.Cluster(nodes=0)
    assert gc.get_threshold() == (700, 10, FULL_COLLECTION_SPACING)


def test_a_program_s_own_settings_are_never_lowered_nor_is_a_disabled_collector_turned_on(thresholds):
    gc.set_threshold(5000, 20, 1000)
    tune_collector()
    assert gc.get_threshold() == (5000, 20, 1000)
    gc.set_threshold(0, 10, 10)
    tune_collector()
    assert gc.get_threshold() == (0, 10, 10)

