"""PER_NODE execution: every dbt node a task run of its own (named "<type> <name>"), with
retries, a concurrency limit and the node cache, started as soon as its parents finished.

A node whose parent failed (or was skipped) is not run: its result is "skipped", with the
failed parents named. Each node's result is the dict run_build() returns for it: status
("success", "cached", "error", "skipped"), timing, invocation, error.

Runs go to a task runner of our runtime: `task_runner_type` is our ThreadPoolTaskRunner (or a
subclass); Prefect's ThreadPoolTaskRunner and ProcessPoolTaskRunner, named by Prefect users,
map to our thread pool. A ProcessPoolTaskRunner (Prefect's or ours) also sends each node's
dbt invocation to worker processes (see _node_processes). Any other class is used as
Prefect's code uses a runner: `cls(max_workers=n)`, entered if it is a context manager,
`submit(task, parameters=, wait_for=)` returning futures.
"""

from __future__ import annotations

import logging
import queue
import threading
from contextlib import ExitStack, nullcontext
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from core_blocks.secret_values import mask_known

if TYPE_CHECKING:
    from prefect_dbt.core._executor import ExecutionResult
    from prefect_dbt.core._manifest import DbtNode

logger = logging.getLogger(__name__)

# Prefect's runner classes, matched by name: Prefect users pass them, and we never import it.
_THREAD_POOL_NAME = "ThreadPoolTaskRunner"
_PROCESS_POOL_NAME = "ProcessPoolTaskRunner"
_WINDOWS_PROCESS_CAP = 61  # ProcessPoolExecutor's limit on Windows
_GLOBAL_LOGGER_NAMES = frozenset({"prefect.task_runs.dbt_orchestrator_global"})


class _DbtNodeError(Exception):
    """A node's dbt run failed: raised in its task so the task's retries apply, and carrying
    what the node's error result needs once they are used up. Pickles (process runners)."""

    def __init__(self, execution_result: ExecutionResult, timing: dict[str, Any],
                 invocation: dict[str, Any]):
        self.execution_result = execution_result
        self.timing = timing
        self.invocation = invocation
        error = execution_result.error
        super().__init__(str(error) if error else "dbt node failed")

    def __reduce__(self):
        return type(self), (self.execution_result, self.timing, self.invocation)


def _child_logger(task_logger: Any, suffix: str) -> Any:
    """`task_logger`'s child logger: a LoggerAdapter's keeps the adapter's extras."""
    if isinstance(task_logger, logging.LoggerAdapter):
        return logging.LoggerAdapter(task_logger.logger.getChild(suffix), task_logger.extra)
    return task_logger.getChild(suffix)


class _LeastFrequentlyUsed:
    """A bounded set of keys; when full, the key seen least often goes first."""

    def __init__(self, maxsize: int):
        self.maxsize = max(1, maxsize)
        self._counts: dict[Any, int] = {}

    def seen(self, key: Any) -> bool:
        """Whether key was seen (and kept) before; counts this sighting either way."""
        if key in self._counts:
            self._counts[key] += 1
            return True
        if len(self._counts) >= self.maxsize:
            del self._counts[min(self._counts, key=self._counts.__getitem__)]
        self._counts[key] = 1
        return False


def _dbt_global_log_dedupe_processor_factory():
    """A log-message processor for process-pool runners that drops repeats of dbt's global
    lines ("Running with dbt=…"): each is kept once per flow run, level and text.

    Prefect's process pool calls such processors on messages sent from its worker processes;
    ours runs nodes in threads, which log each node's lines directly.
    """
    from prefect_dbt.core import _orchestrator as orch_module

    seen = _LeastFrequentlyUsed(orch_module._GLOBAL_LOG_DEDUPE_MAX_KEYS)

    def processor(message_type: str, payload: Any):
        if message_type != "log" or not isinstance(payload, dict):
            return message_type, payload
        name, flow_run_id = payload.get("name"), payload.get("flow_run_id")
        level, message = payload.get("level"), payload.get("message")
        if not (name in _GLOBAL_LOGGER_NAMES and isinstance(flow_run_id, str)
                and isinstance(level, int) and isinstance(message, str)):
            return message_type, payload
        return None if seen.seen((flow_run_id, name, level, message)) else (message_type, payload)

    return processor


def _name_in_bases(cls: Any, name: str) -> bool:
    return isinstance(cls, type) and any(base.__name__ == name for base in cls.__mro__)


def _configure_process_pool_subprocess_message_processors(task_runner: Any,
                                                         processor_factories: list) -> bool:
    """Give a process-pool runner these message processors, through its attribute or its
    setter; False when it takes neither."""
    try:
        task_runner.subprocess_message_processor_factories = processor_factories
        return True
    except (AttributeError, TypeError):
        pass
    try:
        task_runner.set_subprocess_message_processor_factories(processor_factories)
        return True
    except (AttributeError, TypeError):
        return False


def _add_dedupe_processor(runner: Any) -> None:
    """Add our dedupe processor to those a process-pool runner already has."""
    try:
        existing = tuple(getattr(runner, "subprocess_message_processor_factories", ()) or ())
    except (AttributeError, TypeError):
        existing = ()
    if _dbt_global_log_dedupe_processor_factory not in existing:
        existing = (*existing, _dbt_global_log_dedupe_processor_factory)
    if not _configure_process_pool_subprocess_message_processors(runner, list(existing)):
        logger.debug("%s takes no message processors; dbt's global log lines are not "
                     "deduplicated", type(runner).__name__)


class _Completions:
    """Finished node runs, handed from whatever thread finished them to the scheduler."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()

    def watch(self, node_id: str, future: Any) -> None:
        """Report `future` when it is done: through its done callback, else a waiting thread."""
        done = getattr(future, "add_done_callback", None)
        if callable(done):
            done(lambda _f: self._queue.put((node_id, future)))
            return

        def wait() -> None:
            try:
                future.wait()
            finally:
                self._queue.put((node_id, future))

        threading.Thread(target=wait, name=f"dbt-node-{node_id}", daemon=True).start()

    def next(self) -> tuple[str, Any]:
        return self._queue.get()


class _OwnRunner:
    """Submits node tasks to one of our runtime's task runners, recorded as task runs under
    the run in progress."""

    def __init__(self, runner: Any):
        self.runner = runner

    def submit(self, node_task: Any, parameters: dict[str, Any], wait_for: list) -> Any:
        from core_blocks.runtime import engine

        run = engine.new_run("task", node_task)
        future, _work = self.runner.submit(engine.run_task, node_task, (), parameters, run)
        return _RunFuture(run, future)

    def close(self) -> None:
        self.runner.shutdown(wait=True)


class _RunFuture:
    """A node run on our runner: its final State, its result, a done callback."""

    def __init__(self, run: Any, future: Any):
        self.run = run
        self._future = future

    def add_done_callback(self, fn: Any) -> None:
        self._future.add_done_callback(lambda _f: fn(self))

    def result(self) -> Any:
        return self._future.result().result()


class _ForeignRunner:
    """A task runner class of the caller's, used as Prefect's code uses one."""

    def __init__(self, runner: Any, stack: ExitStack):
        self.runner = runner
        if hasattr(runner, "__enter__"):
            self.runner = stack.enter_context(runner)

    def submit(self, node_task: Any, parameters: dict[str, Any], wait_for: list) -> Any:
        return self.runner.submit(node_task, parameters=parameters, wait_for=wait_for or None)

    def close(self) -> None:
        pass


class PerNodeExecutionMixin:
    """The orchestrator's PER_NODE mode. Reads the orchestrator's `_executor`, `_retries`,
    `_retry_delay_seconds`, `_concurrency`, `_task_runner_type`, `_cache` and, through
    NodeCacheMixin, its cache methods; calls its `_build_node_result` and, for each node,
    `_run_post_model_hook`."""

    def _determine_per_node_max_workers(self, task_runner_type: type,
                                        largest_wave: int) -> int:
        """How many nodes run at once: `concurrency` when it is a number; else the widest
        wave (at most the CPU count with a named limit, which throttles anyway). A process
        pool gets at most 2 workers per CPU (61 on Windows) unless concurrency says more."""
        from prefect_dbt.core import _orchestrator as orch_module

        cpus = orch_module.os.cpu_count()
        if isinstance(self._concurrency, int) and not isinstance(self._concurrency, bool):
            return max(1, self._concurrency)
        workers = largest_wave
        if isinstance(self._concurrency, str):
            workers = min(largest_wave, cpus or 4)
        if _name_in_bases(task_runner_type, _PROCESS_POOL_NAME):
            workers = min(workers, (cpus or 1) * 2)
            if orch_module.sys.platform == "win32":
                workers = min(workers, _WINDOWS_PROCESS_CAP)
        return max(1, workers)

    def _open_per_node_runner(self, largest_wave: int, stack: ExitStack) -> Any:
        """The runner node tasks go to (see the module docstring for which classes)."""
        from core_blocks.runtime.task_runners import ThreadPoolTaskRunner

        requested = self._task_runner_type
        workers = self._determine_per_node_max_workers(requested or ThreadPoolTaskRunner,
                                                       largest_wave)
        if requested is None or (isinstance(requested, type)
                                 and issubclass(requested, ThreadPoolTaskRunner)):
            return _OwnRunner((requested or ThreadPoolTaskRunner)(max_workers=workers))
        if getattr(requested, "__name__", None) in (_THREAD_POOL_NAME, _PROCESS_POOL_NAME):
            logger.debug("Running dbt nodes on our ThreadPoolTaskRunner for %s",
                         requested.__name__)
            return _OwnRunner(ThreadPoolTaskRunner(max_workers=workers))
        if not callable(requested):
            raise TypeError(
                f"task_runner_type takes a task runner class (e.g. core_blocks' "
                f"ThreadPoolTaskRunner), not {requested!r}.")
        runner = requested(max_workers=workers)
        if _name_in_bases(requested, _PROCESS_POOL_NAME):
            _add_dedupe_processor(runner)
        return _ForeignRunner(runner, stack)

    def _execute_per_node(self, waves, phases, largest_wave, full_refresh, macro_paths=None,
                          freshness_results=None, all_nodes=None, adapter_type=None,
                          project_name=None, target: str | None = None,
                          extra_cli_args: list[str] | None = None,
                          all_executable_nodes=None) -> dict[str, Any]:
        """Run each node of `phases` (dicts of node id -> DbtNode, run one after the other)
        as a task, a node as soon as its parents in the phase finished; return each node's
        result dict. Parents outside the phase count only if they failed earlier.

        With an `adapter_type`, a model, seed or snapshot that writes a relation records the
        table it wrote (its asset, with the tables it read) as a markdown artifact "dbt-asset"
        of its run, unless `disable_assets`; `project_name` finds its compiled SQL for
        `include_compiled_code`.
        """
        from prefect_dbt.core._node_processes import open_node_executor

        with ExitStack() as stack:
            executor = open_node_executor(self, largest_wave, adapter_type, stack)
            build = _NodeBuild(self, full_refresh, macro_paths or {}, freshness_results,
                               all_nodes or {}, target, extra_cli_args, all_executable_nodes,
                               adapter_type, project_name, executor=executor)
            runner = self._open_per_node_runner(largest_wave, stack)
            try:
                for phase in phases:
                    build.run_phase(phase, runner)
            finally:
                runner.close()
        if self._cache is not None:
            self._save_execution_state(build.execution_state)
        return build.results


class _NodeBuild:
    """One PER_NODE build: its node task, results, failed nodes and cache keys."""

    def __init__(self, owner: Any, full_refresh: bool, macro_paths: dict[str, str | None],
                 freshness_results: Any, all_nodes: dict[str, DbtNode], target: str | None,
                 extra_cli_args: list[str] | None, all_executable_nodes: Any,
                 adapter_type: str | None = None, project_name: str | None = None,
                 executor: Any = None):
        self.owner = owner
        self.executor = executor if executor is not None else owner._executor
        self.adapter_type = adapter_type
        self.project_name = project_name
        self.assets: dict[str, str] = {}  # node id -> markdown of the asset it writes
        self.full_refresh = full_refresh
        self.macro_paths = macro_paths
        self.freshness_results = freshness_results
        self.all_nodes = all_nodes
        self.target = target
        self.extra_cli_args = extra_cli_args
        self.all_executable_nodes = all_executable_nodes
        self.results: dict[str, Any] = {}
        self.failed: set[str] = set()
        self.futures: dict[str, Any] = {}
        self.computed_keys: dict[str, str] = {}
        # A fresh run's result carries this build's token; a result served from the cache
        # carries the token of the build that stored it.
        self.token = uuid4().hex
        cache = owner._cache
        if cache is not None and all_executable_nodes:
            self.precomputed_keys = owner._precompute_all_cache_keys(
                all_executable_nodes, full_refresh, macro_paths)
            self.execution_state = owner._load_execution_state()
        else:
            self.precomputed_keys, self.execution_state = {}, {}
        self.base_task = self._node_task()

    def _node_task(self) -> Any:
        from core_blocks.tasks import task

        executor = self.executor
        limit = self.owner._concurrency if isinstance(self.owner._concurrency, str) else None
        token = self.token
        assets = self.assets

        def run_dbt_node(node, command, full_refresh, target=None, asset_key=None,
                         extra_cli_args=None):
            """Run one dbt node; raise _DbtNodeError when it fails (the task retries)."""
            from prefect_dbt.core import _orchestrator as orch_module

            slot = nullcontext()
            if limit:
                from core_blocks.runtime.concurrency import concurrency

                slot = concurrency(limit)
            started = datetime.now(timezone.utc)
            with slot:
                outcome = executor.execute_node(node, command, full_refresh, target=target,
                                                extra_cli_args=extra_cli_args)
            completed = datetime.now(timezone.utc)
            try:
                task_logger = orch_module.get_run_logger()
                orch_module._emit_log_messages(outcome.log_messages, node.unique_id,
                                               task_logger)
                orch_module._emit_log_messages(
                    outcome.log_messages, "", _child_logger(task_logger,
                                                            "dbt_orchestrator_global"))
            except Exception as exc:  # logging must not fail the node
                logger.debug("dbt log lines of %s not logged: %s", node.unique_id, exc)
            timing = {"started_at": started.isoformat(), "completed_at": completed.isoformat(),
                      "duration_seconds": (completed - started).total_seconds()}
            invocation = {"command": command, "args": [node.unique_id]}
            if not outcome.success:
                raise _DbtNodeError(outcome, timing, invocation)
            artifact = (outcome.artifacts or {}).get(node.unique_id) or {}
            if "execution_time" in artifact:
                timing["execution_time"] = artifact["execution_time"]
            if asset_key and node.unique_id in assets:
                _record_asset(asset_key, assets[node.unique_id], artifact)
            return {"status": "success", "timing": timing, "invocation": invocation,
                    "_build_run_id": token}

        return task(run_dbt_node)

    def _options(self, node: DbtNode) -> dict[str, Any]:
        """The node task's options: its run name, retries and, unless excluded, caching."""
        owner, cache = self.owner, self.owner._cache
        label = node.name or node.unique_id
        options: dict[str, Any] = {"name": f"{_type_name(node)} {label}",
                                   "retries": owner._retries,
                                   "retry_delay_seconds": owner._retry_delay_seconds}
        if cache is None:
            return options
        excluded = ("resource type" if node.resource_type in cache.exclude_resource_types
                    else "materialization" if node.materialization
                    in cache.exclude_materializations else None)
        if excluded:
            logger.debug("%s runs uncached: its %s is excluded", node.unique_id, excluded)
            return options
        options.update(_as_task_options(owner._build_cache_options_for_node(
            node, self.full_refresh, self.computed_keys, self.macro_paths,
            freshness_results=self.freshness_results, all_nodes=self.all_nodes,
            precomputed_cache_keys=self.precomputed_keys,
            execution_state=self.execution_state,
            all_executable_nodes=self.all_executable_nodes)))
        return options

    def run_phase(self, phase: dict[str, DbtNode], runner: Any) -> None:
        """Run a phase's nodes, each once its parents within the phase have finished."""
        waiting = {nid: {d for d in node.depends_on if d in phase} for nid, node in phase.items()}
        children: dict[str, list[str]] = {nid: [] for nid in phase}
        for nid, parents in waiting.items():
            for parent in parents:
                children[parent].append(nid)
        completions = _Completions()
        running = 0
        ready = [nid for nid, parents in waiting.items() if not parents]
        while ready or running:
            while ready:
                nid = ready.pop(0)
                if self._skip_if_parent_failed(phase[nid]):
                    ready.extend(self._release(nid, children, waiting))
                    continue
                completions.watch(nid, self._submit(phase[nid], runner))
                running += 1
            if running:
                nid, future = completions.next()
                running -= 1
                self._record(phase[nid], future)
                ready.extend(self._release(nid, children, waiting))
        unfinished = set(phase) - set(self.results)
        if unfinished:
            raise RuntimeError(f"{len(unfinished)} dbt node(s) were never run: "
                               f"{', '.join(sorted(unfinished))}")

    @staticmethod
    def _release(nid: str, children: dict[str, list[str]],
                 waiting: dict[str, set[str]]) -> list[str]:
        """The children of `nid` that no longer wait for any parent."""
        released = []
        for child in children[nid]:
            waiting[child].discard(nid)
            if not waiting[child]:
                released.append(child)
        return released

    def _skip_if_parent_failed(self, node: DbtNode) -> bool:
        failed_parents = [d for d in node.depends_on if d in self.failed]
        if not failed_parents:
            return False
        self._finish(node, self.owner._build_node_result(
            status="skipped", reason="upstream failure", failed_upstream=failed_parents))
        self.failed.add(node.unique_id)
        return True

    def _submit(self, node: DbtNode, runner: Any) -> Any:
        from prefect_dbt.core import _orchestrator as orch_module

        command = orch_module._NODE_COMMAND.get(node.resource_type, "run")
        node_task = self.base_task.with_options(**self._options(node))
        parameters = {"node": node, "command": command, "full_refresh": self.full_refresh,
                      "target": self.target, "asset_key": self._asset_key(node),
                      "extra_cli_args": self.extra_cli_args}
        upstream = [self.futures[d] for d in node.depends_on if d in self.futures]
        future = runner.submit(node_task, parameters, upstream)
        self.futures[node.unique_id] = future
        return future

    def _asset_key(self, node: DbtNode) -> str | None:
        """The key of the asset `node` writes (its markdown kept for its run), or None."""
        from prefect_dbt.core import _orchestrator as orch_module
        from prefect_dbt.core._artifacts import ASSET_NODE_TYPES

        owner = self.owner
        if (owner._disable_assets or not self.adapter_type or not node.relation_name
                or node.resource_type not in ASSET_NODE_TYPES):
            return None
        suffix = ""
        if owner._include_compiled_code and self.project_name:
            suffix = orch_module.get_compiled_code_for_node(
                node, owner._settings.project_dir, owner._settings.target_path,
                self.project_name)
        asset = orch_module.create_asset_for_node(node, self.adapter_type, suffix)
        upstream = orch_module.get_upstream_assets_for_node(node, self.all_nodes,
                                                            self.adapter_type)
        self.assets[node.unique_id] = _asset_markdown(asset, upstream or [])
        return asset.key

    def _record(self, node: DbtNode, future: Any) -> None:
        """Turn a finished node run into its result: fresh, cached or failed."""
        nid = node.unique_id
        try:
            value = dict(future.result())
        except _DbtNodeError as exc:
            self._fail(node, self.owner._build_node_result(
                status="error", timing=exc.timing, invocation=exc.invocation,
                error=_error_info(nid, exc.execution_result)))
            return
        except Exception as exc:
            self._fail(node, self.owner._build_node_result(
                status="error", error={"message": mask_known(str(exc)),
                                       "type": type(exc).__name__}))
            return
        fresh = value.pop("_build_run_id", None) == self.token
        if not fresh:
            value["status"] = "cached"
        elif nid in self.computed_keys:
            self.execution_state[nid] = self.computed_keys[nid]
        self._finish(node, value)

    def _fail(self, node: DbtNode, result: dict[str, Any]) -> None:
        self._finish(node, result)
        self.execution_state.pop(node.unique_id, None)
        self.failed.add(node.unique_id)
        self.computed_keys.pop(node.unique_id, None)

    def _finish(self, node: DbtNode, result: dict[str, Any]) -> None:
        self.results[node.unique_id] = result
        self.owner._run_post_model_hook(
            command="build", node=self.all_nodes.get(node.unique_id, node), node_result=result)


def _as_task_options(cache_options: dict[str, Any]) -> dict[str, Any]:
    """Cache options in our tasks' terms, for an override returning Prefect's: a
    `cache_policy` is our `cache_key_fn`, and `persist_result` goes (cached results always
    persist)."""
    options = {k: v for k, v in cache_options.items() if k not in ("cache_policy",
                                                                     "persist_result")}
    if "cache_policy" in cache_options and "cache_key_fn" not in options:
        policy = cache_options["cache_policy"]
        options["cache_key_fn"] = lambda context, parameters: policy.compute_key(
            context, parameters, {})
    return options


def _type_name(node: DbtNode) -> str:
    return getattr(node.resource_type, "value", None) or str(node.resource_type)


def _asset_markdown(asset: Any, upstream: list) -> str:
    """An asset and the assets it was built from, as markdown."""
    properties = getattr(asset, "properties", None)
    lines = [f"## {getattr(properties, 'name', None) or asset.key}", "",
             f"Materialized by dbt: `{asset.key}`"]
    if upstream:
        lines += ["", "Built from:", *(f"* `{u.key}`" for u in upstream)]
    description = getattr(properties, "description", None)
    if description:
        lines += ["", description]
    return "\n".join(lines)


def _record_asset(asset_key: str, markdown: str, artifact: dict[str, Any]) -> None:
    """Attach the asset a node run wrote to the run, with dbt's message for the node."""
    from core_blocks.runtime.artifacts import create_markdown_artifact

    message = artifact.get("message")
    try:
        create_markdown_artifact("dbt-asset", markdown + (f"\n\ndbt: {message}" if message
                                                          else ""), description=asset_key)
    except Exception as exc:  # outside a run (a runner calling the function itself)
        logger.debug("Asset %s not recorded: %s", asset_key, exc)


def _error_info(node_id: str, outcome: ExecutionResult) -> dict[str, str]:
    """{message, type} of a failed node: dbt's message for the node when it gave one."""
    message = ((outcome.artifacts or {}).get(node_id) or {}).get("message")
    if not message:
        message = str(outcome.error) if outcome.error else "unknown error"
    kind = (getattr(outcome.error, "type_name", None) or type(outcome.error).__name__
            if outcome.error else "UnknownError")
    return {"message": mask_known(message), "type": kind}


__all__ = ["PerNodeExecutionMixin", "_DbtNodeError",
           "_configure_process_pool_subprocess_message_processors",
           "_dbt_global_log_dedupe_processor_factory"]
