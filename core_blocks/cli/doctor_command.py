"""`blocks doctor`: is everything in place, and why not."""

from __future__ import annotations

import click

from core_blocks.cli.output import json_option, print_json, table


@click.command("doctor")
@click.option("--fix", is_flag=True,
              help="Remove orphaned secrets and leftover temporary files; mark runs whose "
                   "process died as Crashed; make a home others can read private.")
@json_option
def doctor_command(fix: bool, as_json: bool) -> None:
    """Check the home, the store, the secret backends, the plugins, leftover secrets and files,
    and runs whose process died."""
    from core_blocks.diagnostics import run_checks

    root = click.get_current_context().find_root().command
    if hasattr(root, "load_plugin_commands"):
        root.load_plugin_commands()  # so a plugin failing in register_commands is reported

    report = run_checks(fix=fix)
    if as_json:
        print_json(report.as_dict())
    else:
        table(None, ["area", "name", "status", "detail"],
              [[f.area, f.name, "ok" if f.ok else "PROBLEM", f.detail] for f in report.findings])
        for line in report.fixed:
            click.echo(line)
    if not report.ok:
        raise click.exceptions.Exit(1)
