"""`blocks runs ls|show`: flow and task run history; `blocks concurrency set|ls|delete`."""

from __future__ import annotations

import click

from core_blocks.cli.output import (
    UserError,
    json_option,
    listing,
    local_time,
    more_line,
    print_json,
    say,
    table,
)


@click.group("runs", no_args_is_help=True)
def runs_group() -> None:
    """Flow and task run history."""


@click.group("concurrency", no_args_is_help=True)
def concurrency_group() -> None:
    """Global concurrency limits shared through the store."""



def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f} s"


_CELL = 1000  # characters of an error or state message shown in a table cell


def _brief(text: str | None) -> str:
    """A message for a table cell: long ones (up to 64 KiB stored) shortened, since laying out
    a huge cell is slow and the traceback below shows the error in full anyway."""
    if not text or len(text) <= _CELL:
        return text or ""
    return f"{text[:_CELL]} … ({len(text) - _CELL:,} more characters: blocks runs show --json)"


@runs_group.command("ls")
@click.option("--flow", help="Only runs of this flow (and its tasks).")
@click.option("--state", help="Only runs in this state.")
@click.option("--kind", help="Only 'flow' or 'task' runs.")
@click.option("--name", "name_pattern", metavar="PATTERN",
              help="Only runs whose name matches this glob (* any text, ? one character).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True,
              help="At most this many runs.")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Skip this many runs first (the next page).")
@json_option
def runs_ls(flow: str | None, state: str | None, kind: str | None, name_pattern: str | None,
            limit: int, offset: int, as_json: bool) -> None:
    """List recorded runs, newest first, a page at a time.

    On a terminal the rows are aligned; piped, each is one tab-separated line without a header.
    """
    from core_blocks.runtime.history import check_run_filters, count_runs, list_runs
    from core_blocks.store import get_store

    state, kind = check_run_filters(state, kind)
    store = get_store()
    filters = {"flow": flow, "state": state, "kind": kind, "name": name_pattern}
    runs = list_runs(store, limit=limit, offset=offset, **filters)
    if as_json:
        print_json([{k: v for k, v in r.items() if k != "traceback"} for r in runs])
        return
    if not runs:
        if offset or any(filters.values()):
            click.echo("No runs match.")
        else:
            click.echo("No runs recorded yet. Runs of @flow and @task functions appear here.")
        return
    more = None
    if len(runs) == limit:  # a full page: count the rest
        more = more_line(len(runs), offset, count_runs(store, **filters), "runs")
    # A run's name ends with the first 8 characters of its id: `blocks runs show` takes them.
    listing(["run", "kind", "flow", "state", "started", "duration"],
            [[r["name"], r["kind"], r["flow_name"], r["state_name"], local_time(r["started"]),
              _seconds(r["duration"])] for r in runs], more)


@runs_group.command("show")
@click.argument("run_id", metavar="RUN")
@json_option
def runs_show(run_id: str, as_json: bool) -> None:
    """Show one run: parameters (secrets redacted), state transitions, error, child runs,
    and the artifacts it and its child runs attached.

    RUN is the run's name, id, or a unique prefix of the id.
    """
    import json

    from core_blocks.runtime.history import find_run
    from core_blocks.store import get_store

    run = find_run(get_store(), run_id)
    if as_json:
        print_json(run)
        return
    rows = [["id", run["id"]], ["kind", run["kind"]], ["name", run["name"]],
            ["flow", run["flow_name"] or ""], ["flow run", run["flow_run_id"] or ""],
            ["parent", run["parent_id"] or ""],
            ["state", run["state_name"]], ["attempts", run["attempts"]],
            ["started", local_time(run["started"])], ["duration", _seconds(run["duration"])],
            ["last heartbeat", local_time(run["heartbeat"])],
            ["parameters", json.dumps(run["parameters"], default=str)]]
    if run.get("worker"):  # it ran on a Dask worker, not in the flow's process
        rows.insert(7, ["worker", run["worker"]])
    if run["error_type"]:
        rows.append(["error", _brief(f"{run['error_type']}: {run['error_message']}")])
    table(f"{run['kind']} run {run['name']}", ["field", "value"], rows)
    table("states", ["at", "state", "message"],
          [[local_time(s["at"], precise=True), s["name"], _brief(s["message"])]
           for s in run["states"]])
    if run["children"]:
        table("child runs", ["id", "kind", "name", "state", "duration"],
              [[c["id"][:12], c["kind"], c["name"], c["state_name"], _seconds(c["duration"])]
               for c in run["children"]])
    if run["artifacts"]:
        from core_blocks.cli.artifact_commands import show_artifact

        for artifact in run["artifacts"]:
            show_artifact(artifact)
    if run["traceback"]:
        click.echo(run["traceback"].rstrip())


@runs_group.command("prune")
@click.option("--older-than", "older_than", metavar="AGE",
              help="Delete finished runs older than this (30d, 12h, 90m).")
@click.option("--keep", type=click.IntRange(min=1), metavar="N",
              help="Keep at most the newest N runs.")
@json_option
def runs_prune(older_than: str | None, keep: int | None, as_json: bool) -> None:
    """Delete finished runs (with their states and artifacts) that the retention does not keep.

    Without options, applies CORE_BLOCKS_RUN_RETENTION (default 30d,100000), as the history
    writer does every few minutes. Runs still going are never deleted.
    """
    from core_blocks.runtime.history import flush
    from core_blocks.runtime.retention import (
        Retention,
        RetentionError,
        parse_retention,
        prune_runs,
        retention_from_env,
    )
    from core_blocks.store import get_store

    if older_than is None and keep is None:
        retention = retention_from_env()
    else:
        age = None
        if older_than is not None:
            try:
                age = parse_retention(older_than, "--older-than").max_age
            except RetentionError:
                pass
            if age is None:
                raise UserError(f"--older-than {older_than!r} is not an age; write it as e.g. "
                                "30d, 12h or 90m.")
        retention = Retention(age, keep)
    flush()
    removed = prune_runs(get_store(), retention)
    if as_json:
        print_json({"removed": removed, "kept": retention.describe()})
    else:
        say(f"Pruned {removed} run(s); kept {retention.describe()}.")


# ignore_unknown_options: "-1" is then a SLOTS argument refused in words, not "No such option".
@concurrency_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("slots", type=int)
def concurrency_set(name: str, slots: int) -> None:
    """Create or change a limit.

    NAME is the limit's name, e.g. warehouse; SLOTS how many slots may be held at once.
    """
    from core_blocks.runtime.concurrency import set_limit
    from core_blocks.store import get_store

    if slots < 0:
        raise UserError(f"The limit must be 0 or more slots, not {slots}; e.g. "
                        f"blocks concurrency set {name} 2.")
    set_limit(get_store(), name, slots)
    say(f"Concurrency limit {name} set to {slots}.")


@concurrency_group.command("ls")
@json_option
def concurrency_ls(as_json: bool) -> None:
    """List limits with the slots held now."""
    from core_blocks.runtime.concurrency import list_limits
    from core_blocks.store import get_store

    limits = list_limits(get_store())
    if as_json:
        print_json(limits)
        return
    if not limits:
        click.echo("No concurrency limits set. Set one with: blocks concurrency set NAME N")
        return
    table(None, ["name", "slots", "active", "holders"],
          [[x["name"], x["slots"], x["active"], x["holders"]] for x in limits])


@concurrency_group.command("delete")
@click.argument("name")
def concurrency_delete(name: str) -> None:
    """Delete a limit (and the leases on it).

    NAME is the limit's name.
    """
    from core_blocks.runtime.concurrency import delete_limit
    from core_blocks.store import get_store

    delete_limit(get_store(), name)
    say(f"Deleted concurrency limit {name}.")
