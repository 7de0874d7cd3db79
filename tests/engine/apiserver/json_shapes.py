"""What the write-path tests mean by "the same object": equal, with the same types and key order throughout."""

from __future__ import annotations

from typing import Any


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down and the same key order (NaN is the same as NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)
