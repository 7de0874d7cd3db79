"""Fixtures of the grading tests: a temporary course directory where nbgrader (``nbgrader_runner``) generated
the labs.

Everything happens in a temporary copy of the course (``course``, once per session: creating a
gradebook alone costs seconds), so the repository never gets a ``gradebook.db``, ``submitted/``,
``autograded/`` or ``feedback/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_labs  # noqa: E402
from nbgrader_runner import run_nbgrader  # noqa: E402


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary course directory whose ``labs/`` nbgrader generated from the committed ``solutions/``."""
    root = build_labs.course_copy(tmp_path_factory.mktemp("course"))
    outcome = run_nbgrader(root, [("generate_assignment", lab) for lab in build_labs.LABS])
    failed = [result for result in outcome["results"] if not result["success"]]
    assert not failed, failed
    return root
