"""``labs/`` is exactly what ``nbgrader generate_assignment`` makes from ``solutions/``, and ``solutions/`` exactly
what ``build_labs.py`` writes: regenerate both and fail on any difference.

No field needs ignoring: generating twice gives identical bytes (nbgrader's checksums hash the cell
source and metadata only; the generator fixes cell ids). If nbgrader ever adds a volatile field, name
it in ``VOLATILE`` rather than loosening the comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import build_labs

VOLATILE: tuple[str, ...] = ()
FIX = "run `.venv/bin/python tests/grading/build_labs.py` and commit solutions/ and labs/"


def _strip(notebook: dict) -> dict:
    for cell in notebook.get("cells", []):
        for field in VOLATILE:
            cell.get("metadata", {}).get("nbgrader", {}).pop(field, None)
    return notebook


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_committed_source_notebook_is_what_the_generator_writes(lab: str) -> None:
    committed = (build_labs.ROOT / "solutions" / lab / f"{lab}.ipynb").read_text()
    assert committed == build_labs.source_text(lab), f"solutions/{lab} drifted from lab_specs/{lab}.py: {FIX}"


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_committed_lab_is_what_nbgrader_generates(course: Path, lab: str) -> None:
    generated = _strip(json.loads((course / "labs" / lab / f"{lab}.ipynb").read_text()))
    committed = _strip(json.loads((build_labs.ROOT / "labs" / lab / f"{lab}.ipynb").read_text()))
    assert committed == generated, f"labs/{lab} drifted from solutions/{lab}: {FIX}"


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_notebooks_are_committed_without_outputs(lab: str) -> None:
    for folder in ("solutions", "labs"):
        notebook = json.loads((build_labs.ROOT / folder / lab / f"{lab}.ipynb").read_text())
        for cell in notebook["cells"]:
            assert not cell.get("outputs") and cell.get("execution_count") is None, f"{folder}/{lab}: {cell['id']}"


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_released_lab_hides_solutions_and_hidden_tests(lab: str) -> None:
    text = (build_labs.ROOT / "labs" / lab / f"{lab}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", *build_labs.LABS[lab].SECRETS):
        assert marker not in text
    notebook = json.loads(text)
    points = sum(cell["metadata"]["nbgrader"].get("points", 0) for cell in notebook["cells"]
                 if cell["metadata"].get("nbgrader", {}).get("grade"))
    assert points == 10
