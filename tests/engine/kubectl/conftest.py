"""Fixtures for the kubectl tests: a one-node cluster, booted (virtual time 1s).

Helpers that build pods with a given status live in ``kubectl_fixtures``.
"""

from __future__ import annotations

import pytest

import engine


@pytest.fixture
def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0)
