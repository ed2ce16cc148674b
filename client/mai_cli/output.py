"""How `mai` prints: tables and messages for people on stdout, JSON for scripts (`--json`), progress
and live status on stderr only (so `mai … --json > out.json` stays valid JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

WIDE = 200  # columns when stdout is a pipe or a file: no cell is cut for a script


def stdout_console() -> Console:
    console = Console(soft_wrap=False, highlight=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, highlight=False, width=WIDE, no_color=True)
    return console


def stderr_console() -> Console:
    console = Console(stderr=True, highlight=False)
    if not console.is_terminal:
        console = Console(stderr=True, highlight=False, width=WIDE, no_color=True)
    return console


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fmt_number(value: Any, precision: int = 2) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if abs(value) >= 1e7:
            return f"{value:.4e}"  # a score of 3.4996e+13
        if value != 0 and abs(value) < 10**-precision:
            return f"{value:.2g}"  # 0.0025 ms, not 0.00
        return f"{value:.{precision}f}"
    return str(value)


def fmt_time(value: str | None) -> str:
    """An ISO datetime from the API → the viewer's local time with its zone, e.g. `2026-11-29 14:05 CET`."""
    if not value:
        return "–"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M %Z")


def fmt_size(size: int | None) -> str:
    if size is None:
        return "–"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    right: Sequence[str] = (),
    caption: str | None = None,
    empty: str = "Nothing to show yet.",
) -> Table:
    """A table of rows; with no rows, `empty` says so under the headings instead of an empty grid."""
    rows = list(rows)
    if not rows:
        caption = f"{empty} {caption}" if caption else empty
    tab = Table(title=title, box=box.SIMPLE_HEAD, caption=caption, title_justify="left")
    for name in columns:
        tab.add_column(name, justify="right" if name in right else "left", overflow="fold")
    for row in rows:
        tab.add_row(*("–" if cell is None else str(cell) for cell in row))
    return tab


def key_values(title: str | None, pairs: Iterable[tuple[str, Any]]) -> Table:
    tab = Table(title=title, box=box.SIMPLE, show_header=False, title_justify="left")
    tab.add_column("", style="bold")
    tab.add_column("", overflow="fold")
    for key, value in pairs:
        tab.add_row(key, "–" if value is None or value == "" else str(value))
    return tab


@contextmanager
def upload_progress(total: int, description: str, *, enabled: bool = True):
    """A progress bar on stderr while a file goes up; yields the `advance(n)` callback."""
    console = stderr_console()
    if not enabled:
        yield lambda n: None
        return
    if not console.is_terminal:
        console.print(f"{description} ({fmt_size(total)})…", markup=False)
        yield lambda n: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
    console.print(f"{description}: {fmt_size(total)} sent.", markup=False)


class LiveStatus:
    """One status line on stderr that updates in place on a terminal; elsewhere, one line per change."""

    def __init__(self, *, enabled: bool = True):
        self.console = stderr_console()
        self.enabled = enabled
        self._status = None
        self._last = None

    def __enter__(self) -> LiveStatus:
        if self.enabled and self.console.is_terminal:
            self._status = self.console.status("Waiting…")
            self._status.__enter__()
        return self

    def update(self, text: str) -> None:
        if text == self._last or not self.enabled:
            return
        self._last = text
        if self._status is not None:
            self._status.update(text)
        else:
            self.console.print(text, markup=False, soft_wrap=True)

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
            if self._last:
                self.console.print(self._last)


def emit(data: Any, as_json: bool, render: Callable[[Console], None]) -> None:
    """JSON for `--json`, otherwise what `render` prints."""
    if as_json:
        print_json(data)
    else:
        render(stdout_console())


def emit_table(
    data: Any, as_json: bool, columns: Sequence[str], rows: Iterable[Sequence[Any]], **options: Any
) -> None:
    """JSON of `data` for `--json`, otherwise the `table` of `rows` under `columns` (`options`: its
    `right`, `caption` and `empty`). Pass `rows` as a generator: it is read only for the table."""
    emit(data, as_json, lambda console: console.print(table(None, columns, rows, **options)))
