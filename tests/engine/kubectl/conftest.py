"""Fixtures for the kubectl tests: a one-node cluster, booted (virtual time 1s).

The cluster runs ``KUBECTL_TEST_COMPONENTS`` (Ready nodes and default
ServiceAccounts only), so components added to the engine later never rewrite
the statuses these tests set by hand. Helpers that build pods with a given
status live in ``kubectl_fixtures``.
"""

from __future__ import annotations

import pytest

import engine
from kubectl_fixtures import KUBECTL_TEST_COMPONENTS


@pytest.fixture
def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0, components=KUBECTL_TEST_COMPONENTS)
