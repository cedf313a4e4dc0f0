"""Render rows for the terminal or for pipes: table, json, jsonl, csv (pure: returns text)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

FORMATS = ("table", "json", "jsonl", "csv")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def render(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> str:
    """``json`` is one array, ``jsonl`` one object per line, ``csv`` has a header row (lists joined by
    ``, ``), ``table`` is aligned text for people. Every format ends with a newline unless empty."""
    if fmt == "json":
        return (
            json.dumps([{c: row.get(c) for c in columns} for row in rows], ensure_ascii=False, indent=2)
            + "\n"
        )
    if fmt == "jsonl":
        return "".join(
            json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n" for row in rows
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        return buffer.getvalue()
    return table(rows, columns)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, width: int | None = None) -> str:
    """Aligned columns; the last column is cut to fit the terminal."""
    if not rows:
        return ""
    width = width or shutil.get_terminal_size((120, 24)).columns
    cells = [[_cell(row.get(c)).replace("\n", " ") for c in columns] for row in rows]
    headers = [c.upper() for c in columns]
    widths = [max(len(headers[i]), *(len(r[i]) for r in cells)) for i in range(len(columns))]
    fixed = sum(widths[:-1]) + 2 * (len(columns) - 1)
    widths[-1] = max(10, min(widths[-1], width - fixed))

    def line(values: Sequence[str]) -> str:
        out = []
        for i, value in enumerate(values):
            if len(value) > widths[i]:
                value = value[: widths[i] - 1] + "…"
            out.append(value.ljust(widths[i]) if i < len(values) - 1 else value)
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), *(line(r) for r in cells)]) + "\n"
