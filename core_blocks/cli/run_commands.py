"""`blocks runs ls|show`: flow and task run history; `blocks concurrency set|ls|delete`."""

from __future__ import annotations

from datetime import datetime

import typer

from core_blocks.cli.output import JsonOption, UserError, print_json, say, table

runs_app = typer.Typer(help="Flow and task run history.", no_args_is_help=True)
concurrency_app = typer.Typer(help="Global concurrency limits shared through the store.",
                              no_args_is_help=True)
_STATES = ("Pending", "Running", "Completed", "Failed", "Retrying", "TimedOut", "Cancelled",
           "Crashed")


def _when(epoch: float | None, precise: bool = False) -> str:
    if epoch is None:
        return ""
    text = datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S.%f")
    return text[:-3] if precise else text[:-7]


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f} s"


@runs_app.command("ls")
def runs_ls(
    flow: str | None = typer.Option(None, "--flow", help="Only runs of this flow (and its tasks)."),
    state: str | None = typer.Option(None, "--state", help="Only runs in this state."),
    kind: str | None = typer.Option(None, "--kind", help="Only 'flow' or 'task' runs."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="At most this many runs."),
    as_json: bool = JsonOption,
) -> None:
    """List recorded runs, newest first."""
    from core_blocks.runtime.history import list_runs
    from core_blocks.store import get_store

    if state is not None:
        match = {s.lower(): s for s in _STATES}.get(state.lower())
        if match is None:
            raise UserError(f"Unknown state {state!r}; use one of: {', '.join(_STATES)}.")
        state = match
    if kind is not None and kind not in ("flow", "task"):
        raise UserError(f"Unknown run kind {kind!r}; use flow or task.")
    runs = list_runs(get_store(), flow=flow, state=state, kind=kind, limit=limit)
    if as_json:
        print_json([{k: v for k, v in r.items() if k != "traceback"} for r in runs])
        return
    if not runs:
        typer.echo("No runs recorded yet. Runs of @flow and @task functions appear here.")
        return
    # A run's name ends with the first 8 characters of its id: `blocks runs show` takes them.
    table(None, ["run", "kind", "flow", "state", "started", "duration"],
          [[r["name"], r["kind"], r["flow_name"], r["state_name"], _when(r["started"]),
            _seconds(r["duration"])] for r in runs])


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., metavar="RUN",
                                help="Run name, id, or a unique prefix of the id."),
    as_json: bool = JsonOption,
) -> None:
    """Show one run: parameters (secrets redacted), state transitions, error, child runs."""
    import json

    from core_blocks.runtime.history import get_run
    from core_blocks.store import get_store

    try:
        run = get_run(get_store(), run_id)
    except LookupError as exc:
        raise UserError(str(exc)) from None
    if run is None:
        raise UserError(f"No run with id {run_id!r}. List runs with: blocks runs ls")
    if as_json:
        print_json(run)
        return
    rows = [["id", run["id"]], ["kind", run["kind"]], ["name", run["name"]],
            ["flow", run["flow_name"] or ""], ["flow run", run["flow_run_id"] or ""],
            ["parent", run["parent_id"] or ""],
            ["state", run["state_name"]], ["attempts", run["attempts"]],
            ["started", _when(run["started"])], ["duration", _seconds(run["duration"])],
            ["last heartbeat", _when(run["heartbeat"])],
            ["parameters", json.dumps(run["parameters"], default=str)]]
    if run["error_type"]:
        rows.append(["error", f"{run['error_type']}: {run['error_message']}"])
    table(f"{run['kind']} run {run['name']}", ["field", "value"], rows)
    table("states", ["at", "state", "message"],
          [[_when(s["at"], precise=True), s["name"], s["message"] or ""] for s in run["states"]])
    if run["children"]:
        table("child runs", ["id", "kind", "name", "state", "duration"],
              [[c["id"][:12], c["kind"], c["name"], c["state_name"], _seconds(c["duration"])]
               for c in run["children"]])
    if run["traceback"]:
        typer.echo(run["traceback"].rstrip())


@concurrency_app.command("set")
def concurrency_set(
    name: str = typer.Argument(..., help="Limit name, e.g. warehouse."),
    slots: int = typer.Argument(..., min=0, help="How many slots may be held at once."),
) -> None:
    """Create or change a limit."""
    from core_blocks.runtime.concurrency import set_limit
    from core_blocks.store import get_store

    set_limit(get_store(), name, slots)
    say(f"Concurrency limit {name} set to {slots}.")


@concurrency_app.command("ls")
def concurrency_ls(as_json: bool = JsonOption) -> None:
    """List limits with the slots held now."""
    from core_blocks.runtime.concurrency import list_limits
    from core_blocks.store import get_store

    limits = list_limits(get_store())
    if as_json:
        print_json(limits)
        return
    if not limits:
        typer.echo("No concurrency limits set. Set one with: blocks concurrency set NAME N")
        return
    table(None, ["name", "slots", "active", "holders"],
          [[x["name"], x["slots"], x["active"], x["holders"]] for x in limits])


@concurrency_app.command("delete")
def concurrency_delete(name: str = typer.Argument(..., help="Limit name.")) -> None:
    """Delete a limit (and the leases on it)."""
    from core_blocks.runtime.concurrency import delete_limit
    from core_blocks.store import get_store

    delete_limit(get_store(), name)
    say(f"Deleted concurrency limit {name}.")
