"""The cells of a lab's nbgrader source notebook: ``(kind, grade_id, source, points)``.

Kinds: ``markdown`` and ``code`` (read-only cells), ``solution`` (the learner's answer cell: the part
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes the stub) and ``tests`` (graded, with
visible asserts and a ``### BEGIN HIDDEN TESTS`` region that nbgrader removes from the released lab).
"""

from __future__ import annotations

Cell = tuple[str, str, str, float]


def md(grade_id: str, text: str) -> Cell:
    return ("markdown", grade_id, text, 0)


def code(grade_id: str, text: str) -> Cell:
    return ("code", grade_id, text, 0)


def solution(grade_id: str, text: str) -> Cell:
    return ("solution", grade_id, text, 0)


def tests(grade_id: str, points: float, text: str) -> Cell:
    return ("tests", grade_id, text, points)

