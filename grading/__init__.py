"""Grading an instructor can trust: ``make grade LAB=<lab>`` (``python -m grading <lab>``).

Engine-independent tooling around nbgrader's own ``autograde`` and ``generate_feedback``: every
submission is autograded in a course of its own whose kernel runs in a bubblewrap sandbox with
CPU, memory and wall-time limits (``sandbox``, ``execute``, ``worker``), its scores are written to
the real gradebook by the grader alone, which then undoes changes no grader made (``gradebook``),
and feedback and reports are written (``report``, ``batch``). The instructor's guide is
course/INSTRUCTORS.md.
"""
