"""kubectl: the command-line client, its output formats, ``apply``, and the ``%kubectl`` notebook magic.

``engine.kubectl.cli.run(cluster, command)`` is what ``Cluster.kubectl`` calls;
``%load_ext engine.kubectl`` loads the magic (see ``engine.kubectl.magic``).
"""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext engine.kubectl``: register the ``%kubectl`` line and cell magic."""
    from engine.kubectl.magic import load_ipython_extension as load
    load(ipython)
