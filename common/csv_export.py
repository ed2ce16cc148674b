"""The one CSV writer: every CSV the site produces (leaderboards, results exports, the chairs' lists)
goes through `csv_text` or `csv_response`.

Cells are neutralised against CSV injection (OWASP): text a spreadsheet would run as a formula — it
starts with `=`, `+`, `-`, `@`, a tab or a carriage return — gets a leading apostrophe, so
`=HYPERLINK("http://evil.example/","open")` shows as text. Numbers stay numbers: ints and floats are
written as they are, and so is text that is only a number ("-3.5", "+1e-3").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value):
    """The value as a spreadsheet will show it, never as a formula it would run."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_rows(stream, rows: Iterable[Sequence], *, header: Sequence | None = None) -> None:
    writer = csv.writer(stream)
    if header is not None:
        writer.writerow([safe_cell(v) for v in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])


def csv_text(rows: Iterable[Sequence], *, header: Sequence | None = None) -> str:
    out = io.StringIO()
    write_rows(out, rows, header=header)
    return out.getvalue()


def csv_response(filename: str, rows: Iterable[Sequence], *, header: Sequence | None = None) -> HttpResponse:
    """An attachment download named `filename`."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    write_rows(response, rows, header=header)
    return response
