"""Printing for the CLI: Rich tables for people, JSON (``--json``) for machines.

Errors and warnings go to stderr so that ``--json`` output on stdout stays
parseable. Text from users or the data (messages, reasons, params) is escaped
before Rich sees it: a ``[/INST]`` in a note is text, not markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["Output", "when"]


def when(value: datetime | None) -> str:
    """A timestamp for tables: UTC, to the second."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _console(stderr: bool) -> Console:
    """A console; when piped (CI logs, files) wide enough that tables do not fold."""
    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal and console.width < 140:
        console = Console(stderr=stderr, highlight=False, soft_wrap=True, width=140)
    return console


@dataclass
class Output:
    """Where a command prints; one per invocation."""

    json: bool = False
    emitted: bool = False  # a JSON document is on stdout; an error must not add another
    out: Console = field(default_factory=lambda: _console(stderr=False))
    err: Console = field(default_factory=lambda: _console(stderr=True))

    def emit_json(self, data: Any) -> None:
        self.emitted = True
        text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        self.out.print(text, markup=False, highlight=False, soft_wrap=True)

    def line(self, text: str) -> None:
        """A human line (suppressed under --json, where the JSON document says it all)."""
        if not self.json:
            self.out.print(text)

    def warn(self, text: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {escape(text)}")

    def error(self, text: str) -> None:
        self.err.print(f"[red]error:[/red] {escape(text)}", markup=True, highlight=False)

    def table(
        self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> None:
        grid = Table(title=title, title_justify="left", show_lines=False)
        for column in columns:
            grid.add_column(column, overflow="fold")
        for row in rows:
            grid.add_row(*(escape(cell) for cell in row))
        self.out.print(grid)
