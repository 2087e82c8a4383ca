"""How the CLI speaks: tables and JSON on stdout, one-line errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

import click


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, exit 1."""


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_edge=False, header_style="bold")
    for index, column in enumerate(columns):
        # The first column names the row (a type slug, a run or node id): kept whole, so it
        # can be copied; the others fold.
        t.add_column(column, overflow="fold", no_wrap=index == 0)
    for row in rows:
        t.add_row(*("" if v is None else _escape(str(v), fold=False) for v in row))
    # Piped output is read by people and grep alike: do not fold rows at 80 columns.
    Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160).print(t)


def listing(columns: list[str], rows: list[list[Any]], more: str | None = None) -> None:
    """A page of a listing that may be long: aligned text on a terminal, tab-separated lines
    (no header) otherwise, for cut, awk and grep. `more` says how to see the rest: below the
    table on a terminal, on stderr otherwise so that the lines stay data.

    Widths come from this page alone and no row is measured twice: a table of 10,000 rows
    laid out by rich took seconds.
    """
    cells = [["" if v is None else " ".join(str(v).split()) for v in row] for row in rows]
    out = sys.stdout
    if not out.isatty():
        out.write("".join("\t".join(row) + "\n" for row in cells))
        if more:
            sys.stderr.write(more + "\n")
        return
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    header = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    lines = [click.style(header, bold=True)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    if more:
        lines.append(click.style(more, dim=True))
    out.write("\n".join(lines) + "\n")


def more_line(shown: int, offset: int, total: int, what: str) -> str | None:
    """'N more blocks: use --limit/--offset' when the page does not reach the end."""
    rest = total - offset - shown
    if rest <= 0:
        return None
    return (f"{rest} more {what}: use --limit/--offset "
            f"(next page: --offset {offset + shown}).")


def local_time(epoch: float | None, precise: bool = False) -> str:
    """An epoch as local 'YYYY-MM-DD HH:MM:SS' (precise: with milliseconds); '' for None."""
    if epoch is None:
        return ""
    from datetime import datetime

    text = datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S.%f")
    return text[:-3] if precise else text[:-7]


def say(message: str) -> None:
    from rich.console import Console

    Console(highlight=False).print(message)


def error_line(message: str) -> None:
    """One red line on stderr."""
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[red]Error:[/red] {_escape(message)}")


def warn(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[yellow]Warning:[/yellow] {_escape(message)}")


def _escape(text: str, fold: bool = True) -> str:
    """Text shown literally by rich ("[selected]" is not markup); folded to one line."""
    from rich.markup import escape

    return escape(" ".join(text.split()) if fold else text)


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
