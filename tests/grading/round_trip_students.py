"""The round trip's students of a lab (test_round_trip.py), as the files they hand in.

- ``solution``: the instructor's notebook handed in as is;
- ``blank``: the released lab untouched;
- ``wrong_*``: the lab's typical mistakes (``lab_specs/<lab>.py``, ``wrong_answers()``);
- ``broken_*``: the kinds of broken submission the lab lists in ``BROKEN``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import build_labs
from hostile import answered, released


def source_of(lab: str, cell_id: str) -> str:
    notebook = json.loads((build_labs.ROOT / "solutions" / lab / f"{lab}.ipynb").read_text())
    return next("".join(cell["source"]) for cell in notebook["cells"] if cell["id"] == cell_id)


def replace(notebook: dict, cell_id: str, source: str) -> dict:
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        if cell["id"] == cell_id:
            cell["source"] = source.strip("\n")
            return notebook
    raise AssertionError(f"no cell {cell_id}")


def first_test(notebook: dict) -> str:
    return next(cell["id"] for cell in notebook["cells"] if cell["metadata"]["nbgrader"].get("grade"))


def _text(notebook: dict | str) -> dict[str, str]:
    return {"NOTEBOOK": notebook if isinstance(notebook, str) else json.dumps(notebook, indent=1)}


def submissions(course: Path, lab: str) -> dict[str, dict[str, str]]:
    spec = build_labs.LABS[lab]
    solved = answered(course, lab)
    made: dict[str, dict | str] = {
        "solution": (build_labs.ROOT / "solutions" / lab / f"{lab}.ipynb").read_text(),
        "blank": released(course, lab),
    }
    for student, (cell_id, source, _, _) in spec.wrong_answers().items():
        made[student] = replace(solved, cell_id, source)
    solutions = [cell["id"] for cell in solved["cells"] if cell["metadata"]["nbgrader"].get("solution")]
    deleted = copy.deepcopy(solved)
    deleted["cells"] = [cell for cell in deleted["cells"] if cell["id"] != first_test(deleted)]
    broken: dict[str, dict | str] = {
        "broken_json": '{"cells": [ this is not JSON',
        "broken_loop": replace(solved, solutions[-1], "while True:\n    pass"),
        "broken_import": replace(solved, solutions[0], "import kubernetes_helpers_that_do_not_exist\n"
                                 + source_of(lab, solutions[0])),
        "broken_deleted_cell": deleted,
    }
    made.update({student: broken[student] for student in spec.BROKEN})
    return {student: _text(notebook) for student, notebook in made.items()}
