"""`blocks artifacts ls|show`: the markdown texts and tables runs attached (redacted)."""

from __future__ import annotations

from typing import Any

import click

from core_blocks.cli.output import UserError, json_option, local_time, print_json, table


@click.group("artifacts", no_args_is_help=True)
def artifacts_group() -> None:
    """Markdown texts and tables that flow and task runs attached."""


@artifacts_group.command("ls")
@click.option("--run", "run_ref", metavar="RUN",
              help="Only this run's artifacts (and its child runs'): name, id or id prefix.")
@click.option("--key", help="Only artifacts with this key.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many artifacts.")
@json_option
def artifacts_ls(run_ref: str | None, key: str | None, limit: int, as_json: bool) -> None:
    """List artifacts, newest first."""
    from core_blocks.runtime.artifacts import list_artifacts
    from core_blocks.store import get_store

    store = get_store()
    run_ids: list[str] = []
    if run_ref is not None:
        run = _run(store, run_ref)
        run_ids = [run["id"], *(c["id"] for c in run["children"])]
    artifacts = list_artifacts(store, run_ids=run_ids, key=key, limit=limit)
    if as_json:
        print_json(artifacts)
        return
    if not artifacts:
        click.echo("No artifacts recorded. A run attaches one with create_markdown_artifact "
                   "or create_table_artifact.")
        return

    table(None, ["id", "key", "type", "run", "created", "description"],
          [[a["id"][:12], a["key"], a["type"], a["run_id"][:8], local_time(a["created"]),
            a["description"] or ""] for a in artifacts])


@artifacts_group.command("show")
@click.argument("ref", metavar="ID|KEY")
@json_option
def artifacts_show(ref: str, as_json: bool) -> None:
    """Show one artifact: by id (or a unique id prefix), or the newest with that key."""
    from core_blocks.runtime.artifacts import get_artifact
    from core_blocks.store import get_store

    try:
        artifact = get_artifact(get_store(), ref)
    except LookupError as exc:
        raise UserError(str(exc)) from None
    if artifact is None:
        raise UserError(f"No artifact with id or key {ref!r}. List them with: "
                        "blocks artifacts ls")
    if as_json:
        print_json(artifact)
        return
    show_artifact(artifact)


def show_artifact(artifact: dict[str, Any]) -> None:
    """Print an artifact: a table as a table, markdown as its text."""
    title = f"{artifact['type']} artifact {artifact['key']} ({artifact['id'][:12]}, run " \
            f"{artifact['run_id'][:8]})"
    if artifact["description"]:
        title += f": {artifact['description']}"
    data = artifact["data"]
    if artifact["type"] == "table":
        table(title, data["columns"], data["rows"])
    else:
        click.echo(title)
        click.echo(data.rstrip())


def _run(store: Any, ref: str) -> dict[str, Any]:
    from core_blocks.runtime.history import find_run

    return find_run(store, ref)
