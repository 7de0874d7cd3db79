"""``python -m grading <lab> [<lab> ...]``: what ``make grade LAB=<lab>`` runs (see ``grading.batch``).

    python -m grading lab02_etcd                       # from the course root
    python -m grading lab02_etcd --jobs 2 --cell-timeout 60 --students alice,bob
    python -m grading lab02_etcd lab03_apiserver       # several labs, their submissions sharing the --jobs places

Exits 0 when the batch completed (a submission that could not be run is graded zero and reported,
like a gradebook change it undid), 1 when a feedback page had to be withheld for showing hidden tests.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from grading.batch import grade_labs
from grading.sandbox import Limits


def main(argv: list[str] | None = None) -> int:
    defaults = Limits()
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__.split("\n")[0])
    parser.add_argument("labs", nargs="+", metavar="lab", help="the lab to grade, such as lab02_etcd")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="the course root (holds nbgrader_config.py)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    parser.add_argument("--students", help="comma-separated students (default: everyone in submitted/); the "
                        "reports keep the earlier results of the others")
    parser.add_argument("--reports", type=Path,
                        help="where grades.csv and results.json go (default reports/<lab>; one lab only)")
    parser.add_argument("--cell-timeout", type=int, default=defaults.cell_seconds, help="seconds per cell")
    parser.add_argument("--cpu", type=int, default=defaults.cpu_seconds, help="CPU seconds per kernel")
    parser.add_argument("--wall", type=int, default=defaults.wall_seconds, help="seconds per submission")
    parser.add_argument("--memory", type=int, default=defaults.memory_bytes >> 20, help="MB of address space")
    args = parser.parse_args(argv)
    if args.reports and len(args.labs) > 1:
        parser.error("--reports names the folder of one lab's reports: grade one lab with it")
    logging.basicConfig(level=logging.ERROR, format="grade: %(message)s")
    limits = Limits(cell_seconds=args.cell_timeout, cpu_seconds=args.cpu, wall_seconds=args.wall,
                    memory_bytes=args.memory << 20)
    students = args.students.split(",") if args.students else None
    outcomes = grade_labs(args.course, args.labs, limits, args.jobs, students, args.reports)
    print("\n".join(outcome.summary() for outcome in outcomes))
    return 1 if any(outcome.problems for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
