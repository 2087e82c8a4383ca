"""PrefectDbtOrchestrator: a dbt build run wave by wave (one `dbt build` per wave) or node by
node (each node a task run of its own, with retries and caching), on our runtime.

    @flow
    def nightly():
        return PrefectDbtOrchestrator(execution_mode=ExecutionMode.PER_WAVE).run_build()

The steps: parse manifest.json, resolve `select`/`exclude` with `dbt ls`, drop nodes behind
stale sources if asked, place the tests (TestStrategy), split the DAG into waves, run them,
then attach the summary artifact, write run_results.json and call the hooks.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os  # noqa: F401  (the per-node mixin reads os.cpu_count through this module)
import sys  # noqa: F401  (likewise sys.platform)
from collections import Counter
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from dbt.node_types import NodeType

from core_blocks.runtime.artifacts import create_markdown_artifact
from core_blocks.runtime.context import get_run_context
from core_blocks.runtime.run_logging import get_run_logger
from core_blocks.secret_values import mask_known
from prefect_dbt.core._artifacts import (  # noqa: F401  (patched by name on this module)
    create_asset_for_node,
    create_summary_markdown,
    get_compiled_code_for_node,
    get_upstream_assets_for_node,
    write_run_results_json,
)
from prefect_dbt.core._cache import NodeCacheMixin
from prefect_dbt.core._executor import DbtCoreExecutor, DbtExecutor, ExecutionResult
from prefect_dbt.core._freshness import filter_stale_nodes, run_source_freshness
from prefect_dbt.core._hooks import DbtHookContext, DbtHookMixin
from prefect_dbt.core._manifest import DbtNode, ExecutionWave, ManifestParser, resolve_selection
from prefect_dbt.core._per_node import PerNodeExecutionMixin
from prefect_dbt.core.settings import PrefectDbtSettings

logger = logging.getLogger(__name__)

# How many distinct dbt global log lines per-node runs remember to say each only once.
_GLOBAL_LOG_DEDUPE_MAX_KEYS = 10_000
_SUMMARY_KEY = "dbt-orchestrator-summary"


class ExecutionMode(Enum):
    """PER_WAVE: one `dbt build` per wave (little overhead; after a failed node every later
    wave is skipped). PER_NODE: one task run per node, with retries, caching and
    concurrency (call run_build() inside a @flow)."""

    PER_NODE = "per_node"
    PER_WAVE = "per_wave"


class TestStrategy(Enum):
    """When tests run. IMMEDIATE: right after the models they test, as `dbt build` does (a
    failing test skips what is downstream). DEFERRED: all after the last model. SKIP: never."""

    __test__ = False  # not a pytest test class

    IMMEDIATE = "immediate"
    DEFERRED = "deferred"
    SKIP = "skip"


# extra_cli_args: flags the orchestrator owns (refused), flags with a parameter of their own
# (refused, naming it) and flags that work but can surprise (a warning). Short forms map to
# the long one named in the message.
_BLOCKED_FLAGS: dict[str, str] = {
    "--select": "the orchestrator selects nodes itself and runs them by unique id; "
                "pass run_build(select=...) instead.",
    "--models": "it is dbt's old name for --select; pass run_build(select=...) instead.",
    "--exclude": "the orchestrator excludes nodes itself; pass run_build(exclude=...) instead.",
    "--selector": "a YAML selector would replace the nodes the orchestrator resolved; "
                  "pass run_build(select=...) instead.",
    "--indirect-selection": "each wave runs with 'empty' so that TestStrategy alone decides "
                            "when tests run.",
    "--project-dir": "it comes from settings.project_dir; set it there.",
    "--target-path": "it comes from settings.target_path, where the manifest is read; set "
                     "it there.",
    "--profiles-dir": "profiles come from settings.resolve_profiles_yml(); set "
                      "settings.profiles_dir instead.",
    "--log-level": "dbt's console output is silenced and its logs reach the run log through "
                   "callbacks; set settings.log_level instead.",
}
_FIRST_CLASS_FLAGS: dict[str, str] = {
    "--full-refresh": "run_build(full_refresh=True)",
    "--target": "run_build(target='...')",
    "--threads": "DbtCoreExecutor(threads=N)",
    "--defer": "DbtCoreExecutor(defer=True)",
    "--defer-state": "DbtCoreExecutor(defer_state_path=Path(...))",
    "--favor-state": "DbtCoreExecutor(favor_state=True)",
    "--state": "DbtCoreExecutor(state_path=Path(...))",
}
_CAVEAT_FLAGS: dict[str, str] = {
    "--resource-type": "a wave that holds tests (TestStrategy.IMMEDIATE) would silently "
                       "drop those tests.",
    "--exclude-resource-type": "it may silently drop tests TestStrategy.IMMEDIATE "
                               "placed in a wave.",
    "--fail-fast": "in PER_WAVE mode dbt stops the wave at its first failure, leaving nodes "
                   "the orchestrator has no result for (harmless in PER_NODE mode).",
}
_SHORT_FLAGS = {"--select": "-s", "--models": "-m", "--target": "-t", "--fail-fast": "-x"}


def _flag_parser() -> argparse.ArgumentParser:
    """Finds the listed flags in any form (`--f v`, `--f=v`, `-s v`); the rest is ignored."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for flag in (*_BLOCKED_FLAGS, *_FIRST_CLASS_FLAGS, *_CAVEAT_FLAGS):
        forms = [flag, _SHORT_FLAGS[flag]] if flag in _SHORT_FLAGS else [flag]
        parser.add_argument(*forms, dest=flag, nargs="?", const=True, default=None)
    return parser


_FLAG_PARSER = _flag_parser()


def _validate_extra_cli_args(extra_cli_args: list[str]) -> None:
    """Refuse flags the orchestrator manages or exposes as parameters (ValueError, naming
    what to use instead); log a warning for flags that work with a caveat."""
    found, _ = _FLAG_PARSER.parse_known_args(list(extra_cli_args))
    for flag, value in vars(found).items():
        if value is None:
            continue
        if flag in _BLOCKED_FLAGS:
            raise ValueError(f"Cannot pass '{flag}' via extra_cli_args: {_BLOCKED_FLAGS[flag]}")
        if flag in _FIRST_CLASS_FLAGS:
            raise ValueError(f"Cannot pass '{flag}' via extra_cli_args; use "
                             f"{_FIRST_CLASS_FLAGS[flag]} instead.")
        logger.warning("extra_cli_args contains '%s': %s", flag, _CAVEAT_FLAGS[flag])


_LOG_LEVELS = frozenset({"debug", "info", "warning", "error"})


def _emit_log_messages(log_messages: dict[str, list[tuple[str, str]]] | None, node_id: str,
                       target_logger: Any) -> None:
    """Log dbt's captured lines for `node_id` ("" for the invocation's own) to
    `target_logger`, each at its level (unknown levels as info)."""
    for level, message in (log_messages or {}).get(node_id, []):
        emit = getattr(target_logger, level if level in _LOG_LEVELS else "info")
        emit(message)


_UNIT_TYPE = getattr(NodeType, "Unit", None)  # dbt >= 1.8
_TEST_NODE_TYPES = frozenset(t for t in (NodeType.Test, _UNIT_TYPE) if t is not None)
# The dbt command that runs one node of each type (PER_NODE).
_NODE_COMMAND = {NodeType.Model: "run", NodeType.Seed: "seed", NodeType.Snapshot: "snapshot",
                 NodeType.Test: "test", **({_UNIT_TYPE: "test"} if _UNIT_TYPE else {})}
# Never cached unless CacheConfig says otherwise: their outcome is not a table to reuse.
_DEFAULT_EXCLUDE_RESOURCE_TYPES = frozenset(
    t for t in (NodeType.Test, NodeType.Snapshot, _UNIT_TYPE) if t is not None)


@dataclasses.dataclass(frozen=True)
class CacheConfig:
    """Caching across runs (PER_NODE only): a node whose SQL, config, macros and upstream did
    not change is not run again. `result_storage`/`key_storage` take a folder or a
    filesystem block (or its "type/name" slug)."""

    expiration: timedelta | None = None
    result_storage: Any | str | Path | None = None
    key_storage: Any | str | Path | None = None
    use_source_freshness_expiration: bool = False
    exclude_materializations: frozenset[str] = frozenset({"incremental"})
    exclude_resource_types: frozenset[NodeType] = _DEFAULT_EXCLUDE_RESOURCE_TYPES


@dataclasses.dataclass(frozen=True)
class BuildPlan:
    """What run_build() would run, from plan(): the waves in order, how many nodes, the cache
    prediction per node ("hit", "miss", "excluded"; None without caching), the nodes left
    out with why, and the widest wave."""

    waves: tuple[ExecutionWave, ...]
    node_count: int
    cache_predictions: dict[str, str] | None
    skipped_nodes: dict[str, dict[str, Any]]
    estimated_parallelism: int

    def __repr__(self) -> str:  # not the dataclass's: its nodes' relation names may hold
        return (f"BuildPlan(node_count={self.node_count}, waves={len(self.waves)}, "  # secrets
                f"estimated_parallelism={self.estimated_parallelism}, "
                f"skipped_nodes={len(self.skipped_nodes)})")

    def __str__(self) -> str:
        predictions = self.cache_predictions or {}
        lines = [f"BuildPlan: {self.node_count} node(s) in {len(self.waves)} wave(s)"
                 f"  |  max parallelism = {self.estimated_parallelism}", ""]
        for wave in self.waves:
            lines.append(f"  Wave {wave.wave_number} ({len(wave.nodes)} node(s)):")
            for node in wave.nodes:
                line = f"    - {node.unique_id}"
                kind = getattr(node.resource_type, "value", node.resource_type)
                tags = [t for t in (kind, node.materialization) if t]
                if tags:
                    line += f" [{', '.join(tags)}]"
                if node.unique_id in predictions:
                    line += f" (cache: {predictions[node.unique_id]})"
                lines.append(line)
        if predictions:
            counts = [sum(1 for p in predictions.values() if p == kind)
                      for kind in ("hit", "miss", "excluded")]
            lines += ["", "  Cache: {} hit(s), {} miss(es), {} excluded".format(*counts)]
        if self.skipped_nodes:
            lines += ["", f"  Skipped ({len(self.skipped_nodes)}):"]
            lines += [f"    - {nid}: {info.get('reason', 'unknown')}"
                      for nid, info in self.skipped_nodes.items()]
        return "\n".join(lines)


def _checked_concurrency(concurrency: Any) -> str | int | None:
    """concurrency as given, if it is a number of nodes (1 or more) or a limit's name."""
    fix = ("pass a number of nodes at once (concurrency=4) or the name of a concurrency limit "
           "(set with: blocks concurrency set NAME N)")
    if concurrency is None or isinstance(concurrency, str):
        return concurrency
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError(f"concurrency={concurrency!r} is not supported: {fix}.")
    if concurrency < 1:
        raise ValueError(f"concurrency={concurrency} runs no node: {fix}.")
    return concurrency


def _check_limit_exists(name: str) -> None:
    """ValueError naming the fix, before any node runs, when no concurrency limit `name`
    is set in the store."""
    from core_blocks.runtime.concurrency import list_limits
    from core_blocks.store import get_store

    if any(limit["name"] == name for limit in list_limits(get_store())):
        return
    number = f" or concurrency={name} (a number, not a name)" if name.isdigit() else ""
    raise ValueError(f"No concurrency limit named {name!r}: set it with `blocks concurrency "
                     f"set {name} N`{number}, then run the build again.")


class DbtBuildFailed(RuntimeError):
    """run_build() had nodes end in "error" (raised after the artifacts are written).

    `results` holds every node's result; `failed_node_ids` and `skipped_node_ids` name the
    failed nodes and those skipped behind them."""

    def __init__(self, results: dict[str, Any]):
        self.results = results
        self.failed_node_ids = _ids_with_status(results, "error")
        self.skipped_node_ids = _ids_with_status(results, "skipped")
        shown = ", ".join(self.failed_node_ids[:5]) + (
            ", ..." if len(self.failed_node_ids) > 5 else "")
        super().__init__(f"dbt build failed for {len(self.failed_node_ids)} node(s): {shown}")


def _summary_line(results: dict[str, Any]) -> str:
    """'dbt build: 5 success, 1 error' (statuses in order of first appearance)."""
    counts = Counter(r.get("status") for r in results.values() if isinstance(r, dict))
    return "dbt build: " + (", ".join(f"{n} {status}" for status, n in counts.items())
                            or "no nodes")


def _ids_with_status(results: dict[str, Any], status: str) -> list[str]:
    return [nid for nid, r in results.items() if isinstance(r, dict) and r.get("status") == status]


class PrefectDbtOrchestrator(DbtHookMixin, PerNodeExecutionMixin, NodeCacheMixin):
    """Runs a dbt build in waves (ExecutionMode.PER_WAVE, the default) or node by node
    (PER_NODE: retries, caching, concurrency; call run_build() inside a @flow).

    `raise_on_failure` (default True) makes run_build() raise DbtBuildFailed when a node
    failed; False returns the results with their "error" and "skipped" entries.
    """

    def __init__(
        self,
        settings: PrefectDbtSettings | None = None,
        manifest_path: Path | None = None,
        executor: DbtExecutor | None = None,
        threads: int | None = None,
        state_path: Path | None = None,
        defer: bool = False,
        defer_state_path: Path | None = None,
        favor_state: bool = False,
        execution_mode: ExecutionMode = ExecutionMode.PER_WAVE,
        retries: int = 0,
        retry_delay_seconds: int = 30,
        concurrency: str | int | None = None,
        task_runner_type: type | None = None,
        cache: CacheConfig | None = None,
        test_strategy: TestStrategy = TestStrategy.IMMEDIATE,
        create_summary_artifact: bool = True,
        include_compiled_code: bool = False,
        write_run_results: bool = False,
        disable_assets: bool = False,
        raise_on_failure: bool = True,
    ):
        self._initialize_dbt_hooks()
        self._settings = (settings or PrefectDbtSettings()).model_copy()
        self._manifest_path = manifest_path
        self._execution_mode = _enum_value(ExecutionMode, execution_mode, "execution_mode")
        self._test_strategy = _enum_value(TestStrategy, test_strategy, "test_strategy")
        self._retries = retries
        self._retry_delay_seconds = retry_delay_seconds
        self._concurrency = _checked_concurrency(concurrency)
        self._task_runner_type = task_runner_type
        self._cache = cache
        self._create_summary_artifact = create_summary_artifact
        self._include_compiled_code = include_compiled_code
        self._write_run_results = write_run_results
        self._disable_assets = disable_assets
        self._raise_on_failure = raise_on_failure
        self._active_hook_selection_cache: dict[str, set[str]] = {}
        per_node = self._execution_mode == ExecutionMode.PER_NODE
        if retries and not per_node:
            raise ValueError("Retries are only supported in PER_NODE execution mode. "
                             "Set execution_mode=ExecutionMode.PER_NODE to use retries.")
        if cache is not None and not per_node:
            raise ValueError("Caching is only supported in PER_NODE execution mode. "
                             "Set execution_mode=ExecutionMode.PER_NODE to use caching.")
        if manifest_path is not None:  # selection and execution must read the same target dir
            self._settings.target_path = self._resolve_target_path()
        self._executor = executor if executor is not None else DbtCoreExecutor(
            self._settings, threads=threads, state_path=state_path, defer=defer,
            defer_state_path=defer_state_path, favor_state=favor_state)

    # -- results and what follows them ---------------------------------------------------

    @staticmethod
    def _build_node_result(status: str, timing: dict[str, Any] | None = None,
                           invocation: dict[str, Any] | None = None,
                           error: dict[str, Any] | None = None, reason: str | None = None,
                           failed_upstream: list[str] | None = None) -> dict[str, Any]:
        """A node's result: its status and, where given, timing, invocation, error, reason
        and failed_upstream."""
        extra = {"timing": timing, "invocation": invocation, "error": error, "reason": reason,
                 "failed_upstream": failed_upstream}
        return {"status": status, **{k: v for k, v in extra.items() if v is not None}}

    def _run_post_model_hook(self, *, command: str, node: DbtNode,
                             node_result: dict[str, Any]) -> None:
        """Call the post_model hooks for a model's result (other node types have none)."""
        if node.resource_type != NodeType.Model or not self._has_dbt_hooks():
            return
        context = DbtHookContext(event="post_model", command=command, owner=self, node=node,
                                 status=node_result.get("status"), result=node_result,
                                 error=node_result.get("error"), node_ids=(node.unique_id,))
        self._run_dbt_hooks("post_model", context,
                            selection_cache=self._active_hook_selection_cache)

    def _create_artifacts(self, results: dict[str, Any], elapsed_time: float) -> None:
        """The summary artifact (within a run only) and run_results.json, as configured."""
        if self._create_summary_artifact and get_run_context() is not None:
            try:
                create_markdown_artifact(key=_SUMMARY_KEY,
                                         markdown=create_summary_markdown(results),
                                         description=_summary_line(results))
            except Exception as exc:  # a summary never fails the build
                logger.warning("Could not create the dbt summary artifact: %s", exc)
            else:
                logger.info("Summary artifact created: key='%s'", _SUMMARY_KEY)
        if self._write_run_results:
            target_dir = self._settings.project_dir / self._settings.target_path
            path = write_run_results_json(results, elapsed_time, target_dir)
            logger.info("run_results.json written to %s", path)

    # -- paths -----------------------------------------------------------------------------

    def _resolve_target_path(self) -> Path:
        """The target folder: the explicit manifest's folder, else settings.target_path."""
        if self._manifest_path is None:
            return self._settings.target_path
        return self._absolute(self._manifest_path).parent

    def _absolute(self, path: Path) -> Path:
        path = Path(path)
        return path if path.is_absolute() else (self._settings.project_dir / path).resolve()

    def _resolve_manifest_path(self) -> Path:
        """manifest.json: the explicit path (relative to the project), else where the executor
        finds or makes it (which also becomes the target folder)."""
        if self._manifest_path is not None:
            return self._absolute(self._manifest_path)
        path = self._executor.resolve_manifest_path()
        self._manifest_path = path
        self._settings.target_path = path.parent
        return path

    # -- planning --------------------------------------------------------------------------

    @staticmethod
    def _augment_immediate_test_edges(merged_nodes: dict[str, DbtNode],
                                      test_nodes: dict[str, DbtNode]) -> dict[str, DbtNode]:
        """Make each node wait for the tests of what it depends on, so that a failing test
        stops what is downstream, as in `dbt build`.

        A test is not added to a node when one of the test's parents is that node or
        downstream of it (a relationships test across the node): that edge would be a cycle.
        Only nodes that gain edges are replaced.
        """
        tests_of: dict[str, list[str]] = {}
        for test_id, test in test_nodes.items():
            for parent in test.depends_on:
                tests_of.setdefault(parent, []).append(test_id)
        if not tests_of:
            return merged_nodes
        children: dict[str, list[str]] = {}
        for node_id, node in merged_nodes.items():
            for parent in node.depends_on:
                children.setdefault(parent, []).append(node_id)

        def downstream_and_self(node_id: str) -> set[str]:
            seen, todo = {node_id}, [node_id]
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in seen:
                        seen.add(child)
                        todo.append(child)
            return seen

        augmented = dict(merged_nodes)
        for node_id, node in merged_nodes.items():
            if node_id in test_nodes:
                continue
            candidates = [t for parent in node.depends_on for t in tests_of.get(parent, ())]
            if not candidates:
                continue
            reach = downstream_and_self(node_id)
            extra = [t for t in dict.fromkeys(candidates)
                     if not reach.intersection(test_nodes[t].depends_on)]
            if extra:
                augmented[node_id] = dataclasses.replace(
                    node, depends_on=node.depends_on + tuple(extra))
        return augmented

    def _select(self, select: str | None, exclude: str | None, target: str | None,
                profiles_dir: str | None) -> set[str] | None:
        """The unique ids `select`/`exclude` name (via `dbt ls`); None when neither is given.
        Profiles are resolved here unless the caller already holds them resolved."""
        if select is None and exclude is None:
            return None
        with ExitStack() as stack:
            if profiles_dir is None:
                profiles_dir = stack.enter_context(self._settings.resolve_profiles_yml())
                if isinstance(self._executor, DbtCoreExecutor):
                    stack.enter_context(self._executor.use_resolved_profiles_dir(profiles_dir))
            level = self._settings.log_level
            return resolve_selection(
                project_dir=self._settings.project_dir, profiles_dir=Path(profiles_dir),
                select=select, exclude=exclude, target_path=self._resolve_target_path(),
                target=target, log_level_file=str(getattr(level, "value", level)))

    def _prepare_build(self, select: str | None = None, exclude: str | None = None,
                       full_refresh: bool = False, only_fresh_sources: bool = False,
                       target: str | None = None, extra_cli_args: list[str] | None = None, *,
                       _resolved_profiles_dir: str | None = None,
                       _validate_extra_cli_args_input: bool = True) -> tuple:
        """Everything before running (shared by plan and run_build): parse the manifest,
        select, drop nodes behind stale sources, place the tests, compute the waves.

        Returns (waves, phases, filtered_nodes, skipped_results, freshness_results, parser);
        `phases` are the node sets PER_NODE schedules one after the other.
        """
        if extra_cli_args and _validate_extra_cli_args_input:
            _validate_extra_cli_args(extra_cli_args)
        parser = ManifestParser(self._resolve_manifest_path())
        selected = self._select(select, exclude, target, _resolved_profiles_dir)
        nodes = parser.filter_nodes(selected_node_ids=selected)

        freshness: dict = {}
        skipped: dict[str, Any] = {}
        wants_expiration = self._cache is not None and self._cache.use_source_freshness_expiration
        if only_fresh_sources or wants_expiration:
            freshness = run_source_freshness(self._settings,
                                             target_path=self._resolve_target_path(),
                                             target=target)
            if only_fresh_sources and freshness:
                nodes, skipped = filter_stale_nodes(nodes, parser.all_nodes, freshness)

        tests: dict = {}
        if self._test_strategy != TestStrategy.SKIP:
            tests = parser.filter_test_nodes(selected_node_ids=selected,
                                             executable_node_ids=set(nodes))
        if tests and self._test_strategy == TestStrategy.IMMEDIATE:
            merged = self._augment_immediate_test_edges({**nodes, **tests}, tests)
            waves, phases = parser.compute_execution_waves(nodes=merged), [merged]
        elif tests:  # DEFERRED: every test wave after the last model wave
            waves = parser.compute_execution_waves(nodes=nodes)
            number = waves[-1].wave_number + 1 if waves else 0
            for offset, wave in enumerate(parser.compute_execution_waves(nodes=tests)):
                wave.wave_number = number + offset
                waves.append(wave)
            phases = [nodes, tests]
        else:
            waves, phases = parser.compute_execution_waves(nodes=nodes), [nodes]
        return waves, phases, nodes, skipped, freshness, parser

    def plan(self, select: str | None = None, exclude: str | None = None,
             full_refresh: bool = False, only_fresh_sources: bool = False,
             target: str | None = None, extra_cli_args: list[str] | None = None) -> BuildPlan:
        """What run_build() with these arguments would run, without running it (only
        `dbt ls` for a selection and `dbt source freshness` when asked run)."""
        waves, _, _, skipped, _, parser = self._prepare_build(
            select=select, exclude=exclude, full_refresh=full_refresh,
            only_fresh_sources=only_fresh_sources, target=target,
            extra_cli_args=extra_cli_args)
        sizes = [len(w.nodes) for w in waves]
        return BuildPlan(waves=tuple(waves), node_count=sum(sizes),
                         cache_predictions=self._predict_cache(waves, parser, full_refresh),
                         skipped_nodes=skipped, estimated_parallelism=max(sizes, default=0))

    def _predict_cache(self, waves: list, parser: Any, full_refresh: bool
                       ) -> dict[str, str] | None:
        """Per planned node: "excluded" (by type or materialization), "miss" (full refresh,
        or a key other than the last successful run's), or "hit"."""
        if self._cache is None:
            return None
        keys = self._precompute_all_cache_keys(parser.get_executable_nodes(), full_refresh,
                                               parser.get_macro_paths())
        state = self._load_execution_state()
        predictions: dict[str, str] = {}
        for node in (n for wave in waves for n in wave.nodes):
            nid = node.unique_id
            if (node.resource_type in self._cache.exclude_resource_types
                    or node.materialization in self._cache.exclude_materializations):
                predictions[nid] = "excluded"
            elif not full_refresh and nid in keys and keys[nid] == state.get(nid):
                predictions[nid] = "hit"
            else:
                predictions[nid] = "miss"
        return predictions

    # -- running ---------------------------------------------------------------------------

    def run_build(self, select: str | None = None, exclude: str | None = None,
                  full_refresh: bool = False, only_fresh_sources: bool = False,
                  target: str | None = None, extra_cli_args: list[str] | None = None
                  ) -> dict[str, Any]:
        """Run the build; returns each node's result by unique id.

        A result has `status` ("success", "cached", "error" or "skipped"), and `timing`
        (started_at, completed_at, duration_seconds) and `invocation` (command, args) when
        the node ran, `error` (message, type) when it failed, `reason` and `failed_upstream`
        when it was skipped.

        `extra_cli_args` go to every dbt invocation; flags the orchestrator manages raise
        ValueError. With raise_on_failure (the default) a failed node raises DbtBuildFailed,
        after the artifacts are written.
        """
        _validate_extra_cli_args(list(extra_cli_args or []))
        if isinstance(self._concurrency, str) and self._execution_mode == ExecutionMode.PER_NODE:
            _check_limit_exists(self._concurrency)
        try:
            with ExitStack() as stack:
                resolved: list[str] = []

                def profiles_dir() -> str:
                    """profiles.yml resolved once for the whole build, pinned to dbt's
                    executor."""
                    if not resolved:
                        resolved.append(stack.enter_context(self._settings.resolve_profiles_yml()))
                        if isinstance(self._executor, DbtCoreExecutor):
                            stack.enter_context(
                                self._executor.use_resolved_profiles_dir(resolved[0]))
                    return resolved[0]

                if select is not None or exclude is not None:
                    profiles_dir()
                waves, phases, nodes, skipped, freshness, parser = self._prepare_build(
                    select=select, exclude=exclude, full_refresh=full_refresh,
                    only_fresh_sources=only_fresh_sources, target=target,
                    extra_cli_args=extra_cli_args,
                    _resolved_profiles_dir=resolved[0] if resolved else None,
                    _validate_extra_cli_args_input=False)
                if self._has_dbt_hooks():
                    self._active_hook_selection_cache = self._build_dbt_hook_selection_cache(
                        project_dir=self._settings.project_dir,
                        profiles_dir=Path(profiles_dir()),
                        target_path=self._settings.target_path, target=target)
                    self._run_dbt_hooks(
                        "run_start",
                        DbtHookContext(event="run_start", command="build", owner=self,
                                       node_ids=tuple(nodes)),
                        selection_cache=self._active_hook_selection_cache)

                started = datetime.now(timezone.utc)
                if isinstance(self._executor, DbtCoreExecutor) and (
                        self._execution_mode == ExecutionMode.PER_WAVE or self._cache is None):
                    profiles_dir()  # a cached PER_NODE run may need no profiles at all
                results = self._run_execution(waves, phases, full_refresh, freshness, parser,
                                              target=target, extra_cli_args=extra_cli_args)
                elapsed = (datetime.now(timezone.utc) - started).total_seconds()
                results.update(skipped)
                self._create_artifacts(results, elapsed)

                failed = any(isinstance(r, dict) and r.get("status") == "error"
                             for r in results.values())
                if self._has_dbt_hooks():
                    self._run_dbt_hooks(
                        "run_end",
                        DbtHookContext(event="run_end", command="build", owner=self,
                                       status="error" if failed else "success",
                                       run_results=results, node_ids=tuple(results)),
                        selection_cache=self._active_hook_selection_cache)
                    self._active_hook_selection_cache = {}
                if failed and self._raise_on_failure:
                    raise DbtBuildFailed(results)
                return results
        except Exception as exc:
            if self._has_dbt_hooks() and not isinstance(exc, DbtBuildFailed):
                self._run_dbt_hooks(
                    "run_end",
                    DbtHookContext(event="run_end", command="build", owner=self,
                                   status="error", error=exc),
                    selection_cache=self._active_hook_selection_cache)
                self._active_hook_selection_cache = {}
            raise

    def _run_execution(self, waves: list, phases: list[dict[str, DbtNode]],
                       full_refresh: bool, freshness_results: dict, parser: Any,
                       target: str | None = None, extra_cli_args: list[str] | None = None
                       ) -> dict[str, Any]:
        """Run the waves in the configured mode."""
        if self._execution_mode != ExecutionMode.PER_NODE:
            return self._execute_per_wave(waves, full_refresh, target=target,
                                          extra_cli_args=extra_cli_args)
        caching = self._cache is not None
        return self._execute_per_node(
            waves, phases, max((len(w.nodes) for w in waves), default=1), full_refresh,
            parser.get_macro_paths() if caching else {},
            freshness_results=freshness_results
            if caching and self._cache.use_source_freshness_expiration else None,
            all_nodes=parser.all_nodes, adapter_type=parser.adapter_type,
            project_name=parser.project_name, target=target, extra_cli_args=extra_cli_args,
            all_executable_nodes=parser.get_executable_nodes())

    def _execute_per_wave(self, waves: list, full_refresh: bool, target: str | None = None,
                          extra_cli_args: list[str] | None = None) -> dict[str, Any]:
        """One `dbt build` per wave, in order; once a node failed, later waves are skipped.

        A failing test stops later waves under IMMEDIATE only (DEFERRED tests run last).
        Within a run, each wave is recorded as a task run "dbt wave N" in the run history.
        """
        results: dict[str, Any] = {}
        failed: list[str] = []
        for wave in waves:
            if failed:
                for node in wave.nodes:
                    results[node.unique_id] = self._build_node_result(
                        "skipped", reason="upstream failure", failed_upstream=list(failed))
                    self._run_post_model_hook(command="build", node=node,
                                              node_result=results[node.unique_id])
                continue
            started = datetime.now(timezone.utc)
            try:
                outcome = self._run_wave(wave, full_refresh=full_refresh, target=target,
                                         extra_cli_args=extra_cli_args)
            except Exception as exc:
                outcome = ExecutionResult(success=False,
                                          node_ids=[n.unique_id for n in wave.nodes], error=exc)
            completed = datetime.now(timezone.utc)
            timing = {"started_at": started.isoformat(), "completed_at": completed.isoformat(),
                      "duration_seconds": (completed - started).total_seconds()}
            invocation = {"command": "build", "args": [n.unique_id for n in wave.nodes]}
            for node in wave.nodes:
                result = self._wave_node_result(node, outcome, timing, invocation)
                results[node.unique_id] = result
                self._run_post_model_hook(command="build", node=node, node_result=result)
                if result["status"] == "error" and (
                        node.resource_type not in _TEST_NODE_TYPES
                        or self._test_strategy == TestStrategy.IMMEDIATE):
                    failed.append(node.unique_id)
        return results

    def _wave_node_result(self, node: DbtNode, outcome: ExecutionResult,
                          timing: dict[str, Any], invocation: dict[str, Any]
                          ) -> dict[str, Any]:
        """A node's result from its wave's: in a failed wave, a node dbt reports as passed
        still succeeded, and a failed one gets dbt's own message for it."""
        artifact = (outcome.artifacts or {}).get(node.unique_id)
        if outcome.success or (artifact is not None
                               and artifact.get("status") in ("success", "pass")):
            result = self._build_node_result("success", timing=dict(timing),
                                             invocation=dict(invocation))
            if artifact and "execution_time" in artifact:
                result["timing"]["execution_time"] = artifact["execution_time"]
            return result
        error = outcome.error
        message = (artifact or {}).get("message") or (str(error) if error else "unknown error")
        kind = type(error).__name__ if error else "UnknownError"
        # dbt's message may quote compiled SQL or a connection string: mask known secrets.
        return self._build_node_result("error", timing=dict(timing),
                                       invocation=dict(invocation),
                                       error={"message": mask_known(message),
                                              "type": kind})

    def _run_wave(self, wave: Any, **options: Any) -> ExecutionResult:
        """The executor's `dbt build` of one wave (tests placed by TestStrategy only, hence
        indirect selection "empty"), dbt's lines logged; within a run, as a task run
        "dbt wave N" that fails when the wave does."""
        def build() -> ExecutionResult:
            result = self._executor.execute_wave(wave.nodes, indirect_selection="empty",
                                                 **options)
            try:  # within the wave's task run, its lines go to that run's log
                run_logger = get_run_logger()
            except Exception:
                run_logger = logger
            for node_id in [*(n.unique_id for n in wave.nodes), ""]:
                _emit_log_messages(result.log_messages, node_id, run_logger)
            return result

        if get_run_context() is None:
            return build()
        from core_blocks.runtime.task import Task

        outcome: dict[str, Any] = {}

        def dbt_wave() -> None:
            try:
                outcome["result"] = result = build()
            except Exception as exc:
                outcome["error"] = exc
                raise
            if not result.success:
                raise _WaveFailed(wave, result)

        state = Task(dbt_wave, name=f"dbt wave {wave.wave_number}")(return_state=True)
        if "error" in outcome:
            raise outcome["error"]
        if "result" not in outcome:  # the run ended before dbt did (cancelled, crashed)
            raise RuntimeError(f"dbt wave {wave.wave_number} did not run to the end: "
                               f"{getattr(state, 'message', None) or state}")
        return outcome["result"]


class _WaveFailed(RuntimeError):
    """A wave's task run failed: which of its nodes dbt did not pass."""

    def __init__(self, wave: Any, result: ExecutionResult):
        statuses = {nid: a.get("status") for nid, a in (result.artifacts or {}).items()}
        failed = [n.unique_id for n in wave.nodes
                  if statuses.get(n.unique_id) not in ("success", "pass")]
        super().__init__(f"dbt build of wave {wave.wave_number} failed for "
                         f"{len(failed)} node(s): {', '.join(failed[:5])}"
                         + (", ..." if len(failed) > 5 else ""))


def _enum_value(enum: type[Enum], value: Any, name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ValueError(f"Invalid {name} {value!r}. Must be one of: {allowed}") from None


_PER_NODE_NAMES = frozenset({"_DbtNodeError", "_dbt_global_log_dedupe_processor_factory",
                             "_configure_process_pool_subprocess_message_processors"})


def __getattr__(name: str) -> Any:
    """PER_NODE's private helpers, importable from here as in Prefect (they live in _per_node,
    which imports this module)."""
    if name in _PER_NODE_NAMES:
        from prefect_dbt.core import _per_node

        return getattr(_per_node, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
