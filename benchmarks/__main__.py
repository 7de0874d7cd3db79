"""Run the benchmarks: `python -m benchmarks [NAME ...]` (NAME matches bench_NAME.py).

Discovers every `bench_*.py` module in this package, calls its `run()`, and
prints one table: module, measurement, value, unit. A module that fails is
reported in the table and makes the exit status 1; the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

Row = tuple[str, str, str, str]


def discover() -> list[str]:
    """Names of the benchmark modules, `bench_` prefix removed, in alphabetical order."""
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(PACKAGE_DIR)])
        if info.name.startswith("bench_")
    )


def format_value(value: float) -> str:
    if isinstance(value, int) or (value == int(value) and abs(value) >= 1000):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def run_one(name: str) -> tuple[list[Row], bool]:
    """Run benchmarks/bench_NAME.py; returns its table rows and whether it succeeded."""
    print(f"running bench_{name} ...", flush=True)
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        results = module.run()
    except Exception:
        traceback.print_exc(file=sys.stdout)
        return [(name, "FAILED (traceback above)", "", "")], False
    rows = [(name, label, format_value(value), unit) for label, value, unit in results]
    print(f"  {len(rows)} measurement(s) in {time.perf_counter() - started:.1f} s", flush=True)
    return rows, True


def print_table(rows: list[Row]) -> None:
    header: Row = ("benchmark", "measurement", "value", "unit")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(4)]

    def line(row: Row) -> str:
        module, label, value, unit = row
        return (
            f"{module:<{widths[0]}}  {label:<{widths[1]}}  {value:>{widths[2]}}  {unit:<{widths[3]}}".rstrip()
        )

    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def main(argv: list[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {', '.join(available)})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in available]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; available: {', '.join(available)}")

    rows: list[Row] = []
    ok = True
    for name in args.names or available:
        module_rows, module_ok = run_one(name)
        rows += module_rows
        ok = ok and module_ok
    print()
    print_table(rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
