"""`blocks doctor`: is everything in place, and why not."""

from __future__ import annotations

import typer

from core_blocks.cli.output import JsonOption, print_json, table


def doctor_command(
    fix: bool = typer.Option(
        False, "--fix", help="Remove orphaned secrets and leftover temporary files; mark runs "
        "whose process died as Crashed."),
    as_json: bool = JsonOption,
) -> None:
    """Check the store, the secret backends, the plugins, leftover secrets and files, and runs
    whose process died."""
    from core_blocks.diagnostics import run_checks

    report = run_checks(fix=fix)
    if as_json:
        print_json(report.as_dict())
    else:
        table(None, ["area", "name", "status", "detail"],
              [[f.area, f.name, "ok" if f.ok else "PROBLEM", f.detail] for f in report.findings])
        for line in report.fixed:
            typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)
