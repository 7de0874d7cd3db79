"""Every lab's specification, one module per lab: ``lab_specs/<lab>.py``.

A lab module defines

- ``cells() -> list[Cell]``: the cells of its nbgrader source notebook (``lab_specs.cells``);
- ``FULL``: points per graded cell, what the solution scores;
- ``wrong_answers()``: typical mistakes, ``student -> (answer cell id, wrong source, failing cells, words in feedback)``;
- ``BROKEN``: which kinds of broken submission its round trip hands in;
- ``SECRETS``: names of hidden-test helpers that must never reach a released lab or feedback.

Adding a lab is adding a module named after it (``lab04_scheduler.py``); ``LABS`` finds it, and the
generator (``build_labs.py``), the drift test and the round trips pick it up.

``GRADING_LABS=lab08_kube_proxy,lab02_etcd`` in the environment narrows ``LABS`` to those labs, so that whoever
works on one lab can build it and run its round trip without grading all the others.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from types import ModuleType

LABS: dict[str, ModuleType] = {
    info.name: importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if info.name.startswith("lab")
    and (not os.environ.get("GRADING_LABS") or info.name in os.environ["GRADING_LABS"].split(","))
}
