"""Reader for JEMSS CSV tables: a row naming the table, a row of column names, then data rows."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path


class TableError(ValueError):
    """A JEMSS table is missing, or one of its values cannot be read."""


def read_rows(path: Path, member: str | None = None) -> list[list[str]]:
    """The CSV rows of a file, or of `member` inside a zip archive at `path`."""
    if member is None:
        text = path.read_text(encoding="utf-8-sig")
    else:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(member).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def table(rows: Iterable[list[str]], name: str) -> list[dict[str, str]]:
    """The data rows of the table called `name`, as dicts keyed by column name.

    A table starts at the row whose first cell is its name; the next row names the columns;
    data rows follow until a blank row (every cell empty) or the end of the file.
    """
    lines = list(rows)
    start = next((i for i, row in enumerate(lines) if row and row[0].strip() == name), None)
    if start is None:
        raise TableError(f"no table {name!r}")
    if start + 1 >= len(lines):
        raise TableError(f"table {name!r} has no column row")
    columns = [c.strip() for c in lines[start + 1]]
    out: list[dict[str, str]] = []
    for row in lines[start + 2 :]:
        if not any(cell.strip() for cell in row):
            break
        out.append({c: v.strip() for c, v in zip(columns, row, strict=False) if c})
    return out


def number(row: dict[str, str], column: str, where: str) -> float:
    """A numeric cell; TableError naming the table and column when absent or not a number."""
    try:
        return float(row[column])
    except (KeyError, ValueError):
        raise TableError(f"{where}: column {column!r} must be a number") from None
