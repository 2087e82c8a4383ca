"""The `blocks` application: wires the command modules together and turns errors into one line.

Exit codes: 0 success, 1 a user error (one red line on stderr; --debug for the traceback),
2 a usage error.
"""

from __future__ import annotations

import sys

import typer

from core_blocks.cli import block_commands, doctor_command, run_commands, type_commands

app = typer.Typer(
    name="blocks",
    help="Typed, named, secret-safe configuration blocks.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    """Typed, named, secret-safe configuration blocks."""


app.command("types")(type_commands.types_command)
app.command("register")(type_commands.register_command)
app.command("schema")(type_commands.schema_command)
app.command("ls")(block_commands.ls_command)
app.command("create")(block_commands.create_command)
app.command("inspect")(block_commands.inspect_command)
app.command("delete")(block_commands.delete_command)
app.command("doctor")(doctor_command.doctor_command)
app.add_typer(run_commands.runs_app, name="runs")
app.add_typer(run_commands.concurrency_app, name="concurrency")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from core_blocks.cli.output import UserError

    args = sys.argv[1:] if argv is None else argv
    try:
        code = app(args=args, prog_name="blocks", standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(code) comes back as a return value
            return code
    except (UserError, _project_errors()) as exc:
        if "--debug" in args:
            raise
        from core_blocks.cli.output import error_line

        error_line(str(exc))
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except _click_errors() as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


def _project_errors():
    from core_blocks.errors import CoreBlocksError

    return CoreBlocksError


def _click_errors():
    try:  # typer >= 0.22 vendors click
        from typer._click.exceptions import ClickException
    except ImportError:
        from click.exceptions import ClickException
    return ClickException


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
