"""Go's text/tabwriter alignment, which every kubectl table and describe relies on."""

from __future__ import annotations

import pytest

from engine.kubectl.tabwriter import format_tabbed


@pytest.mark.parametrize("text, minwidth, padding, expected", [
    pytest.param("A\tB\n1\t2\n", 6, 3, "A     B\n1     2\n", id="narrow columns are widened to minwidth"),
    pytest.param("NAME\tAGE\nlong-name\t5s\n", 6, 3, "NAME        AGE\nlong-name   5s\n",
                 id="the widest cell plus padding sets the column"),
    pytest.param("a:\tx\nbb:\ty\nheader\nccc:\tz\n", 0, 2, "a:   x\nbb:  y\nheader\nccc:  z\n",
                 id="a line without tabs ends the column block"),
    pytest.param("k:\tv\n\tw\n", 0, 2, "k:  v\n    w\n", id="an empty first cell aligns a continuation line"),
    pytest.param("a\tb\tc\nxx\tyy\n", 0, 1, "a  b c\nxx yy\n", id="the last cell of a line is never padded"),
])
def test_format_tabbed(text: str, minwidth: int, padding: int, expected: str) -> None:
    assert format_tabbed(text, minwidth, padding) == expected
