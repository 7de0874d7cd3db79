"""What grading says: per-test results read from autograded notebooks, the lab's reports, safe feedback.

Interface:

- ``test_results(notebook, scores)``: one ``{"name", "score", "max_score", "output"}`` per grade
  cell (the shape of the common autograder ``results.json``), ``output`` being what the cell
  raised (``GradingFailure: ...``, ``KernelDied: ...``), its stderr, or nothing when it passed.
- ``write_reports(folder, lab, results, undone, problems)``: ``<folder>/grades.csv`` (one row per
  student, one column per test) and ``<folder>/results.json`` (per student: score, max_score,
  status, output, tests; and the gradebook changes undone and problems of the batch).
- ``hidden_lines(source_notebook)``, ``hide_tests(notebook, hidden)`` and ``leaks(html, hidden, own)``:
  the hidden tests' lines, tracebacks cleared of them before feedback is made, and the check that
  a feedback page shows none (never counting the student's own lines).
- ``failure_feedback(lab, student, reason, tests)``: the feedback page of a submission nbgrader
  could not run (invalid JSON, a worker past the wall-time limit).
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_OUTPUT = 2000
"""Characters of a test's output kept in the reports."""


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def _cell_output(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            parts.append(_plain(f"{output.get('ename', '')}: {output.get('evalue', '')}"))
        elif output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            parts.append("the cell wrote to stderr, which nbgrader scores as a failure: " + _plain(text)[:300])
    return "\n".join(parts)[:MAX_OUTPUT]


def test_results(notebook: dict | None, scores: dict[str, tuple[float | None, float]],
                 note: str = "") -> list[dict[str, Any]]:
    """The grade cells of ``notebook`` (autograded; None when nbgrader could not run it) with their scores."""
    cells = {}
    for cell in (notebook or {}).get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            cells[grade_id] = cell
    results = []
    for name, (score, max_score) in scores.items():
        output = _cell_output(cells[name]) if name in cells else note
        results.append({"name": name, "score": float(score or 0.0), "max_score": float(max_score), "output": output})
    return results


def write_reports(folder: Path, lab: str, results: list[dict[str, Any]], undone: list[str] = (),
                  problems: list[str] = ()) -> tuple[Path, Path]:
    """``grades.csv`` and ``results.json`` of the lab in ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [test["name"] for test in results[0]["tests"]] if results else []
    csv_path = folder / "grades.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "lab", "status", "score", "max_score", *names])
        for result in results:
            by_name = {test["name"]: test["score"] for test in result["tests"]}
            writer.writerow([result["student"], lab, result["status"], result["score"], result["max_score"],
                             *(by_name.get(name, 0.0) for name in names)])
    json_path = folder / "results.json"
    json_path.write_text(json.dumps({"lab": lab, "submissions": results, "gradebook_changes_undone": list(undone),
                                     "problems": list(problems)}, indent=1) + "\n")
    return csv_path, json_path


def hidden_lines(source_notebook: Path) -> set[str]:
    """Every non-trivial line between the BEGIN and END HIDDEN TESTS markers of the instructor's notebook."""
    lines: set[str] = set()
    for cell in json.loads(source_notebook.read_text())["cells"]:
        source = "".join(cell.get("source", []))
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S):
            lines.update(line.strip() for line in block.splitlines() if len(line.strip()) >= 12)
    return lines


def own_lines(notebook: dict | None) -> set[str]:
    """The lines of a student's notebook (a line they wrote themselves is no leak)."""
    lines: set[str] = set()
    for cell in (notebook or {}).get("cells", []):
        source = cell.get("source", "")
        lines.update(line.strip() for line in ("".join(source) if isinstance(source, list) else source).splitlines())
    return lines


def leaks(page: str, hidden: set[str], own: set[str]) -> list[str]:
    """The hidden-test lines (or markers) that ``page`` shows."""
    text = html.unescape(_ANSI.sub("", page))
    found = [marker for marker in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS") if marker in text]
    return found + sorted(line for line in hidden - own if line in text)


def hide_tests(notebook: dict, hidden: set[str]) -> int:
    """Drop from the error outputs of ``notebook`` every traceback entry that shows a hidden-test line.

    IPython's traceback shows the lines around the failing line of each frame, the test cell's own
    included, so a learner's exception inside a test cell could show the hidden tests near it.
    Returns how many entries were dropped.
    """
    dropped = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            kept = []
            for entry in output.get("traceback", []):
                text = _plain(entry)
                if "HIDDEN TESTS" in text or any(line in text for line in hidden):
                    dropped += 1
                    entry = "[a part of this traceback is not shown: it is in the instructor's hidden tests]"
                kept.append(entry)
            output["traceback"] = kept
    return dropped


def failure_feedback(lab: str, student: str, reason: str, tests: list[dict[str, Any]]) -> str:
    """A feedback page for a submission that could not be run."""
    rows = "".join(f"<tr><td>{html.escape(test['name'])}</td><td>{test['score']:g} / {test['max_score']:g}</td></tr>"
                   for test in tests)
    total = sum(test["max_score"] for test in tests)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(lab)}: feedback</title></head>"
            f"<body><h1>{html.escape(lab)}: feedback for {html.escape(student)}</h1>"
            f"<p>Score: 0 / {total:g}</p><p>Your submission could not be graded: {html.escape(reason)}.</p>"
            f"<p>Open the lab in JupyterLab, make sure it runs from top to bottom (Kernel, Restart and Run All), "
            f"save it, and hand it in again.</p><table>{rows}</table></body></html>\n")
