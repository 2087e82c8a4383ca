"""The `blocks` application: wires the command modules together and turns errors into one line.

Exit codes: 0 success, 1 a user error (one red line on stderr; --debug for the traceback),
2 a usage error, 130 interrupted.
"""

from __future__ import annotations

import sys

import click

from core_blocks.cli import (
    artifact_commands,
    block_commands,
    completion_command,
    doctor_command,
    run_commands,
    type_commands,
)
from core_blocks.cli.group import BlocksGroup
from core_blocks.cli.lazy_command import LazyCommand


@click.group("blocks", cls=BlocksGroup, no_args_is_help=True)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="core-blocks", prog_name="blocks",
                      message="%(prog)s (%(package)s) %(version)s")
def cli(debug: bool) -> None:
    """Typed, named, secret-safe configuration blocks."""


for command in (type_commands.types_command, type_commands.register_command,
                type_commands.schema_command, block_commands.ls_command,
                block_commands.create_command, block_commands.inspect_command,
                block_commands.delete_command, doctor_command.doctor_command,
                run_commands.runs_group, run_commands.concurrency_group,
                artifact_commands.artifacts_group,
                completion_command.completion_command):
    cli.add_command(command)
cli.add_command(LazyCommand("ui", "core_blocks.ui.command:ui_command",  # no web code at start-up
                            help="Browse, create and edit blocks and read run history in a "
                                 "local web page."))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from core_blocks.cli.output import UserError

    args = sys.argv[1:] if argv is None else argv
    try:
        code = cli.main(args=args, prog_name="blocks", standalone_mode=False)
        if isinstance(code, int) and code:  # click.exceptions.Exit(code) comes back as a value
            return code
    except (UserError, _project_errors()) as exc:
        if "--debug" in args:
            raise
        from core_blocks.cli.output import error_line

        error_line(str(exc))
        return 1
    except click.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            return 130  # Ctrl-C must not look like success, nor like a plain refusal
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


def _project_errors():
    from core_blocks.errors import CoreBlocksError

    return CoreBlocksError


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
