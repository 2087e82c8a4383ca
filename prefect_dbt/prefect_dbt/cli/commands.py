"""dbt commands as tasks, run in this process by dbt's programmatic runner (no subprocess).

    from prefect_dbt.cli import DbtCliProfile
    from prefect_dbt.cli.commands import run_dbt_build

    result = run_dbt_build(project_dir="shop", dbt_cli_profile=DbtCliProfile.load("shop-dev"))
    print([(n.unique_id, n.status) for n in result.nodes])

They follow Prefect 3's sync-or-async rule (core_blocks.dispatch): in an async flow
`await run_dbt_build(...)` runs dbt in a worker thread; in a sync flow the same call without
await returns the result.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core_blocks.dispatch import threaded_dispatch
from core_blocks.tasks import task
from core_blocks.temp_folders import private_temp_folder
from prefect_dbt.cli.credentials import DbtCliProfile
from prefect_dbt.cli.operation import DbtCoreOperation  # noqa: F401  (Prefect's import path)
from prefect_dbt.errors import DbtConfigError, DbtFailure

if TYPE_CHECKING:  # results imports dbt, which only running a command should pay for
    from prefect_dbt.results import DbtResult

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "error": logging.ERROR}
# dbt's own flags we add unless the command sets them: its console output would repeat what
# reaches the run's log, its usage statistics would call out of the machine, and colour codes
# would litter the log lines.
_QUIET = ("--log-level", "none")
_NO_TRACKING = "--no-send-anonymous-usage-stats"
_NO_COLORS = "--no-use-colors"


@threaded_dispatch
@task
def trigger_dbt_cli_command(command: str, project_dir: str | Path | None = None,
                            profiles_dir: str | Path | None = None,
                            dbt_cli_profile: DbtCliProfile | None = None,
                            overwrite_profiles: bool = False,
                            extra_command_args: list[str] | None = None,
                            create_summary_artifact: bool = True,
                            summary_artifact_key: str | None = None,
                            stream_output: bool = True) -> DbtResult:
    """Run a dbt command as written on the command line (`"dbt build --select orders"`; the
    leading `dbt` is optional) and return every node's result.

    With `dbt_cli_profile`, its profiles.yml is written to a private temporary folder removed
    afterwards; with `profiles_dir` too, it is written there instead (and kept), unless a
    profiles.yml is there already: one with the same content is used as it is, another is
    replaced only with `overwrite_profiles=True`.
    dbt's log lines go to the run's log as they happen (unless `stream_output=False`); a
    table of the nodes is attached to the run as artifact `summary_artifact_key` (default
    `dbt-<subcommand>-results`). Failed nodes raise DbtFailure naming each; dbt unable to
    run raises DbtInvocationError.
    """
    from prefect_dbt.results import to_result
    from prefect_dbt.runner import invoke

    args = command_args(command)
    with _profiles_dir(dbt_cli_profile, profiles_dir, overwrite_profiles) as folder:
        # Prefect's order: the command, --profiles-dir, --project-dir, then the extra args.
        if folder is not None and "--profiles-dir" not in args:
            args += ["--profiles-dir", os.fspath(folder)]
        if project_dir is not None and "--project-dir" not in args:
            args += ["--project-dir", str(project_dir)]
        args += list(extra_command_args or [])
        shown = _shown(args)
        if not any(a in args for a in ("--log-level", "--quiet", "-q")):
            args += list(_QUIET)
        if not any(a.endswith("send-anonymous-usage-stats") for a in args):
            args.append(_NO_TRACKING)
        if not any(a.endswith("use-colors") for a in args):
            args.append(_NO_COLORS)
        raw = invoke(args, _run_logger() if stream_output else _ignore)
    try:
        result = to_result(shown, raw)
    except DbtFailure as exc:
        if create_summary_artifact:
            _attach_summary(exc.result, args, summary_artifact_key)
        # Prefect's tasks fail with this first sentence; ours goes on to name each node.
        raise DbtFailure(f"dbt task result success: {raw.success} with exception: "
                         f"{raw.exception}. {exc}", exc.result) from None
    if create_summary_artifact and result.nodes:
        _attach_summary(result, args, summary_artifact_key)
    return result


def _shown(args: list[str]) -> str:
    """The command for messages: without --profiles-dir, often a private temporary folder."""
    at = args.index("--profiles-dir") if "--profiles-dir" in args else len(args)
    return "dbt " + shlex.join(args[:at] + args[at + 2:])


def command_args(command: str, extra_command_args: list[str] | None = None) -> list[str]:
    """The command line as dbt's runner takes it: split like a shell, without `dbt`."""
    args = shlex.split(command)
    if args[:1] == ["dbt"]:
        args = args[1:]
    if not args:
        raise DbtConfigError(f"dbt command {command!r} names no subcommand. Write it as on "
                             "the command line, e.g. 'dbt build'.")
    return args + list(extra_command_args or [])


@threaded_dispatch
def run_dbt_build(**kwargs: Any) -> DbtResult:
    """`dbt build`: seeds, models, snapshots and tests in order (see trigger_dbt_cli_command)."""
    return trigger_dbt_cli_command("dbt build", **kwargs)


@threaded_dispatch
def run_dbt_run(**kwargs: Any) -> DbtResult:
    """`dbt run`: build the models."""
    return trigger_dbt_cli_command("dbt run", **kwargs)


run_dbt_model = run_dbt_run  # Prefect's name for `dbt run`


@threaded_dispatch
def run_dbt_source_freshness(**kwargs: Any) -> DbtResult:
    """`dbt source freshness`: how recently each source with a freshness rule was loaded
    (run the sources' tables first: a missing table is an error, a stale one a warning)."""
    return trigger_dbt_cli_command("dbt source freshness", **kwargs)


@threaded_dispatch
def run_dbt_test(**kwargs: Any) -> DbtResult:
    """`dbt test`: run the data tests."""
    return trigger_dbt_cli_command("dbt test", **kwargs)


@threaded_dispatch
def run_dbt_seed(**kwargs: Any) -> DbtResult:
    """`dbt seed`: load the CSV seeds."""
    return trigger_dbt_cli_command("dbt seed", **kwargs)


@threaded_dispatch
def run_dbt_snapshot(**kwargs: Any) -> DbtResult:
    """`dbt snapshot`: record the snapshots."""
    return trigger_dbt_cli_command("dbt snapshot", **kwargs)


# Prefect's older task names (prefect_dbt.cli.tasks), the same commands.
dbt_build_task = run_dbt_build
dbt_model_task = run_dbt_run
dbt_test_task = run_dbt_test
dbt_seed_task = run_dbt_seed
dbt_snapshot_task = run_dbt_snapshot


# -- Prefect's async names: the same commands for async code, run in a worker thread ---------


async def _in_thread(run: Any, kwargs: dict[str, Any]) -> DbtResult:
    import asyncio

    return await asyncio.to_thread(run, **kwargs)  # the run context goes along


async def arun_dbt_build(**kwargs: Any) -> DbtResult:
    """run_dbt_build for async code: `await arun_dbt_build(project_dir=...)`."""
    return await _in_thread(run_dbt_build, kwargs)


async def arun_dbt_model(**kwargs: Any) -> DbtResult:
    """run_dbt_model (`dbt run`) for async code."""
    return await _in_thread(run_dbt_run, kwargs)


async def arun_dbt_test(**kwargs: Any) -> DbtResult:
    """run_dbt_test for async code."""
    return await _in_thread(run_dbt_test, kwargs)


async def arun_dbt_seed(**kwargs: Any) -> DbtResult:
    """run_dbt_seed for async code."""
    return await _in_thread(run_dbt_seed, kwargs)


async def arun_dbt_snapshot(**kwargs: Any) -> DbtResult:
    """run_dbt_snapshot for async code."""
    return await _in_thread(run_dbt_snapshot, kwargs)


async def arun_dbt_source_freshness(**kwargs: Any) -> DbtResult:
    """run_dbt_source_freshness for async code."""
    return await _in_thread(run_dbt_source_freshness, kwargs)


@contextmanager
def _profiles_dir(profile: DbtCliProfile | None, profiles_dir: str | Path | None,
                  overwrite: bool) -> Iterator[Path | None]:
    """The folder dbt reads profiles.yml from; with a profile block, where it was written."""
    if profile is None:
        if profiles_dir is not None:
            path = Path(profiles_dir).expanduser() / "profiles.yml"
            if overwrite or not path.exists():
                raise DbtConfigError(
                    "Profile not found. Provide `dbt_cli_profile` or ensure profiles.yml "
                    f"exists at {str(path)!r}"
                    + (" (overwrite_profiles=True needs a profile to write)." if overwrite
                       else "."))
        yield None if profiles_dir is None else Path(profiles_dir)
        return
    text = _profile_text(profile)  # first: a profile that cannot be written touches no disk
    if profiles_dir is not None:
        folder = Path(profiles_dir).expanduser()
        path = folder / "profiles.yml"
        if not overwrite and path.exists():
            if _holds(path, text):  # written by an earlier command, or the same by hand
                yield folder
                return
            raise _kept_profiles(path)
        folder.mkdir(parents=True, exist_ok=True)
        _write_profile(path, text, replace=overwrite)
        yield folder
        return
    # 0700, removed afterwards; a run killed with kill -9 leaves it to `blocks doctor --fix`.
    with private_temp_folder("dbt") as folder:
        _write_profile(folder / "profiles.yml", text, replace=True)
        yield folder


def _holds(path: Path, text: str) -> bool:
    """True when the file at path reads exactly text."""
    try:
        return path.read_text() == text
    except (OSError, UnicodeDecodeError):
        return False


def _kept_profiles(path: Path) -> DbtConfigError:
    return DbtConfigError(
        f"Since overwrite_profiles is False and {str(path)!r} already exists, "
        "dbt_cli_profile was not written there: pass "
        "overwrite_profiles=True to replace it, leave dbt_cli_profile out to use that file, "
        "or leave profiles_dir out to use a private temporary folder.")


def _profile_text(profile: DbtCliProfile) -> str:
    import yaml

    return yaml.safe_dump(profile.get_profile(), sort_keys=False)


def _write_profile(path: Path, text: str, replace: bool) -> None:
    """Write profiles.yml whole or not at all: a temporary file first, then renamed (replace)
    or linked, which fails if a profiles.yml appeared meanwhile (not replace)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # 0600 from the first byte: the file holds the target's password.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise _kept_profiles(path) from None
    finally:
        tmp.unlink(missing_ok=True)


def _ignore(level: str, message: str) -> None:
    """on_event for stream_output=False: dbt's lines reach no log."""


def _run_logger() -> Any:
    """on_event for dbt: each line to the run's logger, the run's secret values masked."""
    from core_blocks import get_run_context
    from core_blocks.runtime.run_logging import logger

    context = get_run_context()
    run = context.run if context else None
    extra = {"run_id": run.id, "run_name": run.name} if run else {}
    prefix = f"{run.name} | " if run else ""

    def on_event(level: str, message: str) -> None:
        number = _LEVELS.get(level, logging.INFO)
        if message and logger.isEnabledFor(number):
            text = run.secrets.mask(message) if run else message
            logger.log(number, "%s%s", prefix, text, extra=extra)

    return on_event


def _attach_summary(result: DbtResult, args: list[str], key: str | None) -> None:
    from core_blocks import create_table_artifact

    failed = len(result.failed_nodes)
    words = [a for a in args if not a.startswith("-")][:2]
    # `source freshness`, `docs generate`: dbt's two-word subcommands are named in full.
    subcommand = " ".join(words if words[:1] in (["source"], ["docs"]) else words[:1])
    subcommand = subcommand or "command"
    default = "dbt-" + re.sub(r"[^a-z0-9]+", "-", subcommand.lower()).strip("-") + "-results"
    create_table_artifact(key or default, result.summary_rows(),
                          description=f"{result.command}: {len(result.nodes)} nodes, "
                                      f"{failed} failed")
