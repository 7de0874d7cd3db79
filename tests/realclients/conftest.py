"""Fixtures of the real-client tests: an engine cluster served on 127.0.0.1, and the real kubectl.

One cluster per module, served twice: over plain HTTP (``served``, what
``engine serve`` does by default) and over TLS (``served_tls``), where kubectl
sends the kubeconfig's credentials, so RBAC-limited users can be tried. The
fixtures stop the servers. ``kubectl(...)`` runs the machine's kubectl as a
subprocess with a generated kubeconfig, a private HOME (its discovery cache)
and a request timeout; it returns the CompletedProcess.
"""

from __future__ import annotations

import pathlib
import subprocess
from typing import Iterator

import pytest

from engine.apiserver.http.serve import ServeHandle
from engine.cluster import Cluster
from kubectl_tool import KUBECTL, KUBECTL_TIMEOUT, Kubectl, kubectl_env


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster(nodes=2, seed=0)


@pytest.fixture(scope="module")
def served(cluster: Cluster) -> Iterator[ServeHandle]:
    with cluster.serve() as handle:
        yield handle


@pytest.fixture(scope="module")
def served_tls(cluster: Cluster, served: ServeHandle) -> Iterator[ServeHandle]:
    with cluster.serve(tls=True) as handle:
        yield handle


@pytest.fixture(scope="module")
def kubectl_home(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("kubectl-home")


@pytest.fixture(scope="module")
def kubectl(served: ServeHandle, kubectl_home: pathlib.Path) -> Kubectl:
    """``kubectl("get", "nodes", kubeconfig=...)`` against the served cluster (admin by default)."""
    if KUBECTL is None:
        pytest.skip("the real kubectl is not installed")

    def run(*args: str, kubeconfig: pathlib.Path | str | None = None, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([KUBECTL, "--request-timeout=20s", *args], input=stdin, capture_output=True,
                                text=True, timeout=KUBECTL_TIMEOUT,
                                env=kubectl_env(kubeconfig or served.kubeconfig_path, kubectl_home))
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result
    return run
