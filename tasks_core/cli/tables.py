"""Tables that fit the terminal: key columns kept whole, the others dropped or folded.

Every `ls` table is built here from `Column`s and rows of cells. At the console's width
(80 columns in a pipe, a CI log or a small terminal) a table keeps its key columns (the
name, the state and the short id: `drop=0`) whole and on one line, so `ls | grep NAME`
finds a name and a printed id can be pasted into `inspect`. When the table does not fit,
columns with the highest `drop` go first (a narrower one keeps its place when a wider, more
important one does not fit); `flexible` columns (free text: reasons,
descriptions, schedules) fold into the width left instead. Only when the key columns alone
are wider than the console is a `shrink` column (a long name) cut with an ellipsis.

Pure: widths are measured from the cells, no console is needed (`fit_table(..., width)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

__all__ = ["Cell", "Column", "fit_table", "kept_columns", "table_width"]

Cell = Text | str

_PER_COLUMN = 3
"""Cells a column costs beyond its content in rich's default table: one space of padding
on each side and one rule; the table adds one more rule at its right edge."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a fitted table.

    Attributes:
        header: the column's heading.
        drop: 0 keeps the column at any width; at narrow widths the highest numbers are
            dropped first (the rightmost first among equals).
        flexible: the column folds its text into the width left, never narrower than
            `min_width` cells (else it is never wrapped nor shrunk).
        shrink: when even the kept columns are too wide, this one is cut with an ellipsis.
        min_width: the narrowest a flexible or shrunk column gets, in cells.
        justify: ``left`` or ``right``.
        style: rich style of the whole column.
    """

    header: str
    drop: int = 0
    flexible: bool = False
    shrink: bool = False
    min_width: int = 12
    justify: JustifyMethod = "left"
    style: str = ""


def _cell_width(cell: Cell) -> int:
    plain = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in plain.split("\n")), default=0)


def _natural(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> list[int]:
    widths = [cell_len(column.header) for column in columns]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _cell_width(cell))
    return widths


def _needed(column: Column, natural: int) -> int:
    return min(natural, column.min_width) if column.flexible else natural


def table_width(widths: Sequence[int]) -> int:
    """Cells a rich table with these column content widths takes (edges included)."""
    return sum(widths) + _PER_COLUMN * len(widths) + 1


def kept_columns(columns: Sequence[Column], natural: Sequence[int], width: int) -> list[int]:
    """Indexes of the columns kept at `width` cells, in table order: every ``drop=0`` column,
    then each other column, lowest `drop` first (leftmost among equals), when it still fits.

    A wide column that does not fit is skipped and a narrower, less important one may take
    the room left, so the table uses what the width allows.
    """
    kept = [i for i, column in enumerate(columns) if column.drop == 0]
    optional = sorted((i for i, column in enumerate(columns) if column.drop > 0),
                      key=lambda i: (columns[i].drop, i))
    for i in optional:
        trial = sorted([*kept, i])
        if table_width([_needed(columns[j], natural[j]) for j in trial]) <= width:
            kept = trial
    return kept


def fit_table(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int, *,
              title: str | None = None) -> Table:
    """A rich table of `rows` (one cell per column, user text as `Text`) that fits `width`
    cells: see the module docstring for what is kept, dropped, folded and cut."""
    natural = _natural(columns, rows)
    kept = kept_columns(columns, natural, width)
    excess = table_width([_needed(columns[i], natural[i]) for i in kept]) - width
    table = Table(title=title, title_justify="left")
    for i in kept:
        column, size = columns[i], natural[i]
        justify = column.justify
        if column.flexible:
            table.add_column(column.header, justify=justify, style=column.style,
                             overflow="fold", min_width=min(size, column.min_width))
            continue
        if column.shrink and excess > 0:
            cut = min(excess, size - min(size, column.min_width))
            size, excess = size - cut, excess - cut
        table.add_column(column.header, justify=justify, style=column.style, no_wrap=True,
                         overflow="ellipsis", min_width=size, max_width=size)
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table
