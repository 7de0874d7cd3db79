"""Builds the labs: the nbgrader source notebooks in ``solutions/`` and, through nbgrader, the released ``labs/``.

    .venv/bin/python tests/grading/build_labs.py          # from the repo root (PATH need not include the venv)

writes ``solutions/<lab>/<lab>.ipynb`` from the cell lists in ``lab_specs/<lab>.py``, then runs
``nbgrader generate_assignment <lab> --force`` in a temporary copy of the course directory (so no
``gradebook.db`` appears in the repo) and copies the generated ``labs/<lab>/`` back. The drift test
(``test_drift.py``) calls the same functions and fails when the committed files differ.

Cell ids are fixed (nbformat would draw random ones), so the same sources give the same bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab_specs import LABS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent if (Path(sys.executable).parent / "nbgrader").exists() \
    else ROOT / ".venv" / "bin"
"""Where ``nbgrader`` and ``alembic`` live: next to the running Python (not resolved: a venv's python is a symlink)."""


def _metadata(kind: str, grade_id: str, points: float) -> dict:
    grade = kind == "tests"
    solution = kind == "solution"
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def notebook(cells: list[tuple[str, str, str, float]]) -> nbformat.NotebookNode:
    """A source notebook from ``(kind, grade_id, source, points)``; kind: markdown, code, solution, tests."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    for kind, grade_id, source, points in cells:
        source = source.strip("\n")
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell.id = grade_id
        cell.metadata = _metadata(kind, grade_id, points)
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def source_text(lab: str) -> str:
    return nbformat.writes(notebook(LABS[lab].cells())) + "\n"


def write_sources(root: Path = ROOT) -> None:
    for lab in LABS:
        path = root / "solutions" / lab / f"{lab}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source_text(lab))


def course_copy(destination: Path, root: Path = ROOT) -> Path:
    """The parts of the course directory nbgrader needs (its config and ``solutions/``) under ``destination``.

    ``nbgrader_config.py`` roots the course where the file is, so the copy has its own gradebook.
    """
    shutil.copy2(root / "nbgrader_config.py", destination / "nbgrader_config.py")
    shutil.copytree(root / "solutions", destination / "solutions")
    return destination


def nbgrader_env() -> dict[str, str]:
    """nbgrader runs ``alembic`` from PATH (DESIGN.md, Known pitfalls): the venv's bin goes first."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def generate(course: Path, lab: str) -> None:
    """``nbgrader generate_assignment <lab> --force`` run from ``course`` (its own gradebook)."""
    result = subprocess.run([str(VENV_BIN / "nbgrader"), "generate_assignment", lab, "--force"], cwd=course,
                            env=nbgrader_env(), capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {lab} failed:\n{result.stdout}\n{result.stderr}")


def release(root: Path = ROOT) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = course_copy(Path(tmp), root)
        for lab in LABS:
            generate(course, lab)
            target = root / "labs" / lab
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(course / "labs" / lab, target)


if __name__ == "__main__":
    write_sources()
    release()
    print("wrote", ", ".join(f"solutions/{lab} and labs/{lab}" for lab in LABS))
