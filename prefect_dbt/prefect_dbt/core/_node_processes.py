"""PER_NODE with a process pool: each node's task run stays a task run of this process (run
history, retries, hooks, cache as with threads), and only its dbt invocation goes to a pool
of worker processes, so nodes run in parallel despite dbt's one-invocation-per-process lock.

Opt in with `task_runner_type=ProcessPoolTaskRunner` (ours, from `prefect_dbt.core`, or
Prefect's, named by its code). The pool is started for one build and shut down after it.
No secret is pickled: this process resolves profiles.yml once into its private folder, and
a worker gets that folder's path, the project's paths, the node's selector, the command and
dbt's flags; it runs dbt with a plain DbtCoreExecutor and returns the ExecutionResult, which
this process masks before anything else sees it.

Workers start from a fork server (spawned where there is none): like any process pool, a
script that builds at import time needs the `if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from core_blocks.runtime.task_runners import ThreadPoolTaskRunner
from prefect_dbt.errors import DbtError

logger = logging.getLogger(__name__)

_PROCESS_POOL_NAME = "ProcessPoolTaskRunner"  # ours, and Prefect's, matched by name
# dbt-duckdb lets one process write a database file: workers would fail on its lock.
_SINGLE_WRITER_ADAPTERS = frozenset({"duckdb"})
# Last on a worker's command line, so they win over the caller's (see _run_node).
_WORKER_FLAGS = ("--log-level-file", "none", "--no-write-json")


class ProcessPoolTaskRunner(ThreadPoolTaskRunner):
    """Runs a PER_NODE build's dbt invocations in parallel worker processes.

    As `task_runner_type` of a PrefectDbtOrchestrator, node task runs stay threads of this
    process and each one's dbt call goes to one of `max_workers` processes; anywhere else it
    is our ThreadPoolTaskRunner. Needs a database server (PostgreSQL, Snowflake...): DuckDB
    lets one process write its file.

        orchestrator = PrefectDbtOrchestrator(execution_mode=ExecutionMode.PER_NODE,
                                              task_runner_type=ProcessPoolTaskRunner,
                                              concurrency=4)
    """


class NodeProcessError(DbtError):
    """dbt's error in a worker process, as its message and its type's name (`type_name`):
    dbt's own exceptions may not pickle."""

    def __init__(self, message: str, type_name: str = "DbtError"):
        super().__init__(message)
        self.type_name = type_name

    def __reduce__(self):
        return type(self), (str(self), self.type_name)


def wants_processes(task_runner_type: Any) -> bool:
    """Whether `task_runner_type` asks for dbt in worker processes: a class named
    ProcessPoolTaskRunner (Prefect's or ours) or a subclass of ours."""
    return isinstance(task_runner_type, type) and (
        task_runner_type.__name__ == _PROCESS_POOL_NAME
        or issubclass(task_runner_type, ProcessPoolTaskRunner))


def open_node_executor(owner: Any, largest_wave: int, adapter_type: str | None,
                       stack: ExitStack) -> Any:
    """The executor PER_NODE's node tasks call: the orchestrator's own, or, when its
    `task_runner_type` asks for processes, one sending each node to a process pool that
    `stack` shuts down. An executor of the caller's (anything but a plain DbtCoreExecutor)
    is kept and called from threads: it decides where dbt runs."""
    from prefect_dbt.core._executor import DbtCoreExecutor

    executor = owner._executor
    if not wants_processes(owner._task_runner_type):
        return executor
    if type(executor) is not DbtCoreExecutor:
        logger.info("%s runs dbt its own way: its nodes run in threads, not processes",
                    type(executor).__name__)
        return executor
    if adapter_type in _SINGLE_WRITER_ADAPTERS:
        raise ValueError(
            f"task_runner_type=ProcessPoolTaskRunner cannot run a {adapter_type} project: "
            f"{adapter_type} lets one process write its database file, so parallel dbt "
            "processes fail on its lock. Use the default ThreadPoolTaskRunner "
            "(task_runner_type=None), or a database server such as PostgreSQL.")
    workers = owner._determine_per_node_max_workers(owner._task_runner_type, largest_wave)
    profiles_dir = executor._profiles_dir_override
    if profiles_dir is None:
        profiles_dir = stack.enter_context(executor._settings.resolve_profiles_yml())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_start_context(adapter_type))
    stack.callback(pool.shutdown, wait=True, cancel_futures=True)
    return _ProcessNodeExecutor(pool, _worker_config(executor, profiles_dir))


def _start_context(adapter_type: str | None) -> Any:
    """forkserver where there is one, with dbt, its tasks and the adapter imported once by
    the server (its workers fork from it, ready: on two CPUs, four workers each importing
    dbt cost more than the build gains); else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Takes effect when the process's one fork server starts (the first such build); it
    # skips a module that does not import. "__main__" is the default.
    context.set_forkserver_preload(
        ["__main__", "prefect_dbt.core._executor", __name__, "prefect_dbt.results",
         *(f"dbt.task.{task}" for task in ("build", "run", "seed", "snapshot", "test")),
         *([f"dbt.adapters.{adapter_type}"] if adapter_type else [])])
    return context


def _worker_config(executor: Any, profiles_dir: str) -> dict[str, Any]:
    """What a worker needs to run dbt as `executor` does: paths and flags, no secret."""
    settings = executor._settings

    def path(value: Any) -> str | None:
        return None if value is None else str(value)

    return {"project_dir": str(Path(settings.project_dir).resolve()),
            "profiles_dir": profiles_dir, "target_path": str(settings.target_path),
            "log_level": str(getattr(settings.log_level, "value", settings.log_level)),
            "threads": executor._threads, "state_path": path(executor._state_path),
            "defer": executor._defer, "defer_state_path": path(executor._defer_state_path),
            "favor_state": executor._favor_state}


class _ProcessNodeExecutor:
    """execute_node() as DbtCoreExecutor's, run in the pool; the result (error, dbt's
    messages and log lines) masked here, where the secrets are known."""

    def __init__(self, pool: ProcessPoolExecutor, config: dict[str, Any]):
        self._pool = pool
        self._config = config

    def execute_node(self, node: Any, command: str, full_refresh: bool = False,
                     target: str | None = None, extra_cli_args: list[str] | None = None) -> Any:
        from core_blocks.secret_values import every_form, mask_forms
        from prefect_dbt.core._executor import _masked

        outcome = self._pool.submit(_run_node, self._config, node.unique_id,
                                    node.dbt_selector, command, full_refresh, target,
                                    list(extra_cli_args or [])).result()
        forms = every_form()
        if isinstance(outcome.error, NodeProcessError):
            outcome.error = NodeProcessError(mask_forms(str(outcome.error), forms),
                                             outcome.error.type_name)
        for artifact in (outcome.artifacts or {}).values():
            if isinstance(artifact.get("message"), str):
                artifact["message"] = mask_forms(artifact["message"], forms)
        return _masked(outcome)


def _run_node(config: dict[str, Any], unique_id: str, selector: str, command: str,
              full_refresh: bool, target: str | None, extra_cli_args: list[str]) -> Any:
    """In a worker: run `dbt <command>` on one node with a plain DbtCoreExecutor on the
    resolved profiles folder; the error made picklable.

    The worker knows no secret to scrub, so dbt writes neither its log file nor its JSON
    artifacts here (they would quote what this process masks); the build's results, logs
    and run_results.json come from the parent."""
    from prefect_dbt.core._executor import DbtCoreExecutor
    from prefect_dbt.core.settings import PrefectDbtSettings

    settings = PrefectDbtSettings(project_dir=config["project_dir"],
                                  profiles_dir=config["profiles_dir"],
                                  target_path=config["target_path"],
                                  log_level=config["log_level"])
    executor = DbtCoreExecutor(
        settings, threads=config["threads"], state_path=config["state_path"],
        defer=config["defer"], defer_state_path=config["defer_state_path"],
        favor_state=config["favor_state"], run_deps=False)
    node = SimpleNamespace(unique_id=unique_id, dbt_selector=selector)
    with executor.use_resolved_profiles_dir(config["profiles_dir"]):
        outcome = executor.execute_node(
            node, command, full_refresh, target=target,
            extra_cli_args=[*extra_cli_args, *_WORKER_FLAGS])
    if outcome.error is not None:
        outcome.error = NodeProcessError(str(outcome.error), type(outcome.error).__name__)
    return outcome


__all__ = ["NodeProcessError", "ProcessPoolTaskRunner", "open_node_executor",
           "wants_processes"]
