"""Every notebook in the repository is stored clean: valid nbformat, no outputs, no execution counts.

Outputs in a committed notebook go stale the moment the engine changes, make
diffs unreadable, and, in a lab, would show a learner the answers the
solution printed. Widget state saved in the metadata is an output too (and
JupyterLab does not save it by default). To clean a notebook:

    python -c "import nbformat, sys; nb = nbformat.read(sys.argv[1], 4); \\
    [c.update(outputs=[], execution_count=None) for c in nb.cells if c.cell_type == 'code']; \\
    nb.metadata.pop('widgets', None); nbformat.write(nb, sys.argv[1])" course/01_architecture.ipynb
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("course", "labs", "solutions")


def notebooks() -> list[Path]:
    found: list[Path] = []
    for folder in FOLDERS:
        found += sorted(path for path in (ROOT / folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
    return found


def test_the_course_has_notebooks_to_check():
    assert (ROOT / "course" / "00_welcome.ipynb").exists(), "course/00_welcome.ipynb is where `make lab` opens"


@pytest.mark.parametrize("path", notebooks(), ids=lambda path: str(path.relative_to(ROOT)))
def test_notebook_is_valid_and_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert notebook.nbformat == 4, f"{path.relative_to(ROOT)} is nbformat {notebook.nbformat}, expected 4"
    nbformat.validate(notebook)
    dirty = [f"cell {index}: {len(cell.outputs)} output(s), execution_count={cell.execution_count}"
             for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.relative_to(ROOT)} was committed with outputs (clear them):\n" + "\n".join(dirty)
    assert "widgets" not in notebook.metadata, f"{path.relative_to(ROOT)} stores widget state: clear it"
