"""Fixtures for the kubectl tests: a one-node cluster booted at virtual time 1s."""

from __future__ import annotations

import pytest

import engine


@pytest.fixture
def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0)
