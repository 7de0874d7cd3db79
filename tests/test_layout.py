"""The test tree itself: what would stop a whole pytest run before any test runs."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_two_test_files_share_a_name() -> None:
    # The test folders are not packages, so pytest imports each test file by its bare name: two files
    # with the same name in different folders stop the whole run at collection ("import file mismatch").
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted(TESTS.rglob("test_*.py")):
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(TESTS)} and {path.relative_to(TESTS)}")
        seen.setdefault(path.name, path)
    assert not clashes, f"rename one of each pair: {clashes}"
