"""Benchmarks for the performance budgets in DESIGN.md, run by `make bench`.

Each `bench_*.py` module in this package exposes

    run() -> list[tuple[str, float, str]]     # (name, value, unit)

and `python -m benchmarks` discovers them, runs each and prints one aligned
table. Figures are medians or ratios from one run on this machine; they are
measured here, never asserted in tests.
"""
