"""engine.addons's docstring names each add-on's entry point: every one it names exists and takes a cluster."""

from __future__ import annotations

import importlib
import inspect
import re

import engine.addons


def test_every_install_the_docstring_names_exists() -> None:
    named = re.findall(r"``engine\.addons\.(\w+)\.install\(cluster\)``", engine.addons.__doc__ or "")
    assert "metrics_server" in named
    for name in named:
        install = importlib.import_module(f"engine.addons.{name}").install
        assert list(inspect.signature(install).parameters)[0] == "cluster"
