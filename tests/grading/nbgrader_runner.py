"""nbgrader driven through its Python API in a child Python, for the grading tests.

nbgrader runs in a child process (``run_nbgrader``), for three reasons: it runs ``alembic`` from PATH
(DESIGN.md, Known pitfalls), its libraries emit warnings that pytest's ``filterwarnings = error`` would
turn into failures, and its log goes to stderr. The child builds the API the way DESIGN.md says
(``NbGrader().load_config_file()``, then ``NbGraderAPI(config=app.config)``), runs the commands it is
given and prints one JSON document: each command's result and the gradebook's scores. It imports
``grading.gradebook`` first, so that creating the gradebook does not cost an ``alembic heads`` child (seconds).

(A module of its own, not conftest.py: several test folders have a conftest.py, so ``import conftest``
could find another one.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_labs  # noqa: E402

_CHILD = r"""
import json, sys
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGrader, NbGraderAPI

request = json.loads(sys.argv[1])
sys.path.insert(0, request["root"])
import grading.gradebook    # nbgrader's alembic question answered in this process
app = NbGrader()
app.load_config_file()
if request.get("timeout"):
    app.config.ExecutePreprocessor.timeout = request["timeout"]
api = NbGraderAPI(config=app.config)
results = []
for command, lab in request["commands"]:
    if command == "generate_assignment":
        result = api.generate_assignment(lab, force=True)
    elif command == "autograde":
        result = api.autograde(lab, "*", force=True, create=True)     # every submitted student: one batch
    elif command == "generate_feedback":
        result = api.generate_feedback(lab, None, force=True)          # every autograded student
    else:
        raise SystemExit(f"unknown command {command}")
    results.append({"command": command, "lab": lab, "success": result["success"],
                    "log": result.get("log", ""), "error": result.get("error", "")})
scores = {}
with Gradebook(app.config.CourseDirectory.db_url) as gradebook:
    for lab in request.get("scores", []):
        for student in request["students"]:
            try:
                notebook = gradebook.find_submission_notebook(lab, lab, student)
            except MissingEntry:
                continue
            scores.setdefault(lab, {})[student] = {grade.name: grade.score for grade in notebook.grades}
print(json.dumps({"results": results, "scores": scores}))
"""


def run_nbgrader(course: Path, commands: list[tuple[str, str]], *, timeout: int | None = None,
                 scores: list[str] = (), students: list[str] = ()) -> dict:
    """Run nbgrader ``commands`` (``generate_assignment``, ``autograde``, ``generate_feedback``; lab) in
    ``course``; returns each command's result and, for the labs in ``scores``, each student's cell scores."""
    request = {"root": str(build_labs.ROOT), "commands": commands, "timeout": timeout, "scores": list(scores),
               "students": list(students)}
    process = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(request)], cwd=course,
                             env=build_labs.nbgrader_env(), capture_output=True, text=True, timeout=600)
    if process.returncode != 0:
        raise RuntimeError(f"nbgrader child failed ({process.returncode}):\n{process.stdout}\n{process.stderr}")
    return json.loads(process.stdout.strip().splitlines()[-1])
