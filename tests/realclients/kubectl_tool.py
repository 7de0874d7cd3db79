"""The machine's kubectl, for the real-client tests: where it is and the environment it runs in.

A uniquely named module (not ``conftest``) so that test modules can import it
whatever other ``conftest.py`` files the run has loaded.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from typing import Callable

import pytest

KUBECTL = shutil.which("kubectl")
KUBECTL_TIMEOUT = 60

Kubectl = Callable[..., subprocess.CompletedProcess]

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="the real kubectl is not installed")


def kubectl_env(kubeconfig: pathlib.Path | str, home: pathlib.Path) -> dict[str, str]:
    """The test's environment minus any KUBE* variable, with the kubeconfig and a private HOME (its cache)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KUBE")}
    env.update(KUBECONFIG=str(kubeconfig), HOME=str(home))
    return env
