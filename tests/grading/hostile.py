"""The catalogue of hostile and broken submissions, generated for any lab from its released notebook.

``catalogue(course, lab)`` returns ``student -> Hostile``: the files handed in (the notebook, and an
``engine.py`` beside it for one of them) and what grading must make of them. Most start from the
released lab (its answers left as stubs), so that the only way to marks is the attack itself;
``hostile_stderr`` starts from the solution, since writing to stderr in an answer must cost nothing.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import build_labs


@dataclass
class Hostile:
    files: dict[str, str]                 # path in the student's folder -> text
    full_marks: bool = False              # False: zero in every graded cell
    status: str = "graded"
    words: str = ""                       # in the result's output or an autograded cell's output
    absent: tuple[str, ...] = ()          # must appear nowhere in the autograded notebook
    kernel: bool = True                   # starts a kernel
    extra: dict = field(default_factory=dict)


def _cells(notebook: dict, kind: str) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["metadata"].get("nbgrader", {}).get(kind)]


def released(course: Path, lab: str) -> dict:
    return json.loads((course / "labs" / lab / f"{lab}.ipynb").read_text())


def answered(course: Path, lab: str) -> dict:
    """The released lab with every answer cell holding the solution."""
    notebook = released(course, lab)
    solution = json.loads((build_labs.ROOT / "solutions" / lab / f"{lab}.ipynb").read_text())
    sources = {cell["id"]: "".join(cell["source"]) for cell in solution["cells"]}
    for cell in _cells(notebook, "solution"):
        cell["source"] = sources[cell["id"]]
    return notebook


def _with_first_answer(notebook: dict, code: str, *, prepend: bool = True) -> dict:
    notebook = copy.deepcopy(notebook)
    cell = _cells(notebook, "solution")[0]
    source = "".join(cell["source"])
    cell["source"] = code.strip("\n") + "\n" + source if prepend else code.strip("\n")
    return notebook


def _stubs_returning_none(notebook: dict) -> dict:
    notebook = copy.deepcopy(notebook)
    for cell in _cells(notebook, "solution"):
        cell["source"] = "".join(cell["source"]).replace("raise NotImplementedError()", "return None")
    return notebook


def _nb(notebook: dict) -> dict[str, str]:
    return {"NOTEBOOK": json.dumps(notebook, indent=1)}


PATCH_ENGINE = """
# Make every check pass: patch the feedback helpers, every check_* the hidden tests could use and the guard
# that would put them back, and rebind the names the notebook imported.
import importlib, pkgutil, engine.grading
for _info in pkgutil.iter_modules(engine.grading.__path__):
    _module = importlib.import_module(f"engine.grading.{_info.name}")
    for _name in list(vars(_module)):
        if _name.startswith("check") or _name in ("compare", "fail", "ensure_installed", "fresh_cluster", "guard"):
            setattr(_module, _name, lambda *args, **kwargs: None)
check = fail = compare = lambda *args, **kwargs: None
"""

STEAL = """
# Look for the instructor's solutions and the gradebook, and use them.
import glob, json, os, sqlite3
_found = []
for _root in [{course!r}, os.getcwd(), *[os.path.abspath(os.path.join(os.getcwd(), *[".."] * n)) for n in range(1, 6)]]:
    for _path in glob.glob(os.path.join(_root, "**", "*.ipynb"), recursive=True) + \\
            glob.glob(os.path.join(_root, "**", "gradebook.db"), recursive=True):
        if "solutions" in _path or _path.endswith("gradebook.db"):
            _found.append(_path)
for _path in _found:
    if _path.endswith(".ipynb"):
        for _cell in json.load(open(_path))["cells"]:
            if _cell["cell_type"] == "code":
                try:
                    exec("".join(_cell["source"]), globals())
                except Exception:
                    pass
print("found:", len(_found))
"""

WRITE_GRADEBOOK = """
# Give myself full marks in the gradebook.
import glob, os, sqlite3
_written = 0
_here = os.getcwd()
for _db in [{course!r} + "/gradebook.db", *[os.path.join(_here, *[".."] * n, "gradebook.db") for n in range(6)]]:
    try:
        _connection = sqlite3.connect(f"file:{{_db}}?mode=rw", uri=True)
        _written += _connection.execute("UPDATE grade SET manual_score = 1000").rowcount
        _connection.commit()
    except Exception as _error:
        print("no gradebook at", _db, type(_error).__name__)
print("rows written:", _written)
"""


EVERY_LAB = ("hostile_monkeypatch", "hostile_stderr")
"""The kinds handed in for every lab: patching the checks targets each lab's own hidden tests, and the honest
answers with warnings on run each lab's own engine code. The other kinds attack nbgrader and the sandbox, which
are the same for every lab: they are handed in for one lab only (``full_catalogue_lab``), since each costs a kernel
and a lab's set-up cells, and twelve labs of them would be most of the suite's time."""


def full_catalogue_lab(labs: list[str]) -> str:
    """The lab that gets every kind: the first by name (the same lab whichever labs ``GRADING_LABS`` selects)."""
    return sorted(labs)[0]


def catalogue(course: Path, lab: str, *, full: bool = True) -> dict[str, Hostile]:
    """The hostile submissions for ``lab``: every kind, or (``full=False``) only those in ``EVERY_LAB``."""
    every = _catalogue(course, lab)
    return every if full else {student: every[student] for student in EVERY_LAB}


def _catalogue(course: Path, lab: str) -> dict[str, Hostile]:
    blank, solved = released(course, lab), answered(course, lab)
    tests = _cells(blank, "grade")
    deleted = copy.deepcopy(blank)
    deleted["cells"] = [cell for cell in deleted["cells"] if cell["id"] != tests[0]["id"]]
    copied = copy.deepcopy(blank)
    duplicate = copy.deepcopy(tests[0])
    duplicate["id"] = "copied-test-cell"
    duplicate["source"] = "pass"
    copied["cells"].insert(copied["cells"].index(next(c for c in copied["cells"] if c["id"] == tests[0]["id"])),
                           duplicate)
    retyped = copy.deepcopy(blank)
    for cell in _cells(retyped, "grade"):
        cell["cell_type"] = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    return {
        "hostile_invalid_json": Hostile({"NOTEBOOK": '{"cells": [ {"cell_type": "code", "source": '}, status="failed",
                                         words="not valid JSON", kernel=False),
        "hostile_deleted_test": Hostile(_nb(deleted), words="NotImplementedError"),
        "hostile_copied_locked": Hostile(_nb(copied), words="a copy of the cell"),
        "hostile_cell_type": Hostile(_nb(retyped), words="NotImplementedError"),
        "hostile_loop": Hostile(_nb(_with_first_answer(blank, "import time\nwhile True:\n    time.sleep(0.05)")),
                                words="KeyboardInterrupt"),
        # A terabyte: past the address-space limit at once (a bomb that grows by touching memory would only
        # show how fast the machine writes it before the same MemoryError).
        "hostile_memory": Hostile(_nb(_with_first_answer(blank, "hog = [bytearray(1 << 40)]")), words="MemoryError"),
        "hostile_sys_exit": Hostile(_nb(_with_first_answer(blank, "import sys\nsys.exit()")), words="SystemExit"),
        "hostile_os_exit": Hostile(_nb(_with_first_answer(blank, "import os\nos._exit(1)")), words="KernelDied"),
        "hostile_stderr": Hostile(_nb(_with_first_answer(solved, "import sys, warnings\nprint('debugging', file=sys.stderr)\n"
                                                                  "warnings.warn('a learner warning')\n"
                                                                  "print('warnoptions:', sys.warnoptions)")),
                                  full_marks=True, words="warnoptions: ['default']"),
        "hostile_reads": Hostile(_nb(_with_first_answer(blank, STEAL.format(course=str(course)))), words="found: 0"),
        "hostile_writes_gradebook": Hostile(_nb(_with_first_answer(blank, WRITE_GRADEBOOK.format(course=str(course)))),
                                            words="rows written: 0"),
        "hostile_engine_py": Hostile({**_nb(blank), "engine.py": "print('ENGINE SHADOWED')\n",
                                      "engine/__init__.py": "print('ENGINE SHADOWED')\n"},
                                     words="NotImplementedError", absent=("ENGINE SHADOWED",)),
        "hostile_monkeypatch": Hostile(_nb(_with_first_answer(_stubs_returning_none(blank), PATCH_ENGINE))),
        "hostile_huge_output": Hostile(_nb(_with_first_answer(blank, "print(('x' * 999 + '\\n') * 20000)\n"
                                                                     "for _ in range(3000):\n    print('y' * 1000)")),
                                       words="dropped the rest of this cell's output"),
    }
