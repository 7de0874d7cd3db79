"""Go's ``text/tabwriter``, the aligner behind every kubectl table and ``describe``.

Interface: ``format_tabbed(text, minwidth, padding) -> str``.

Text is made of cells: a tab ends a cell, a newline ends a line. The last cell
of a line does not belong to any column, so it is never padded. A *column
block* is a run of consecutive lines that all have a cell in that column;
each block is as wide as its widest cell plus ``padding`` (at least
``minwidth``), and a line with fewer cells ends the block. This is the
algorithm of ``tabwriter.Writer.format`` (no flags, space padding), so
``kubectl get`` (``minwidth=6, padding=3``) and ``kubectl describe``
(``minwidth=0, padding=2``) line up exactly as the real ones do.
"""

from __future__ import annotations

GET_MINWIDTH = 6
GET_PADDING = 3
DESCRIBE_MINWIDTH = 0
DESCRIBE_PADDING = 2


def format_tabbed(text: str, minwidth: int = GET_MINWIDTH, padding: int = GET_PADDING) -> str:
    """Align tab-separated ``text`` as Go's tabwriter does with space padding."""
    trailing_newline = text.endswith("\n")
    raw_lines = text.split("\n")
    if trailing_newline:
        raw_lines = raw_lines[:-1]
    lines = [line.split("\t") for line in raw_lines]
    out: list[str] = []
    _format(lines, 0, len(lines), [], minwidth, padding, out)
    result = "\n".join(out)
    return result + "\n" if trailing_newline else result


def _format(lines: list[list[str]], line0: int, line1: int, widths: list[int], minwidth: int, padding: int,
            out: list[str]) -> None:
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        _write_lines(lines, line0, this, widths, out)
        line0 = this
        width = minwidth
        while this < line1 and column < len(lines[this]) - 1:
            width = max(width, len(lines[this][column]) + padding)
            this += 1
        _format(lines, line0, this, widths + [width], minwidth, padding, out)
        line0 = this
    _write_lines(lines, line0, line1, widths, out)


def _write_lines(lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]) -> None:
    for line in lines[line0:line1]:
        parts = []
        for index, cell in enumerate(line):
            if index < len(widths) and index < len(line) - 1:
                parts.append(cell.ljust(widths[index]))
            else:
                parts.append(cell)
        out.append("".join(parts))
