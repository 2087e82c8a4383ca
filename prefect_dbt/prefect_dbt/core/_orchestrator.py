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

import dataclasses
import logging
import os  # noqa: F401  (patched by tests on this module)
import sys  # noqa: F401  (patched by tests on this module)
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from dbt.node_types import NodeType

from core_blocks.runtime.run_logging import get_run_logger  # noqa: F401  (looked up at call time)
from prefect_dbt.core._executor import DbtCoreExecutor, DbtExecutor, ExecutionResult  # noqa: F401
from prefect_dbt.core.settings import PrefectDbtSettings

try:  # until the manifest module's rewrite lands
    from prefect_dbt.core._manifest import (  # noqa: F401
        DbtNode,
        ExecutionWave,
        ManifestParser,
        resolve_selection,
    )
except ImportError:  # pragma: no cover
    from prefect_dbt.core._manifest import DbtNode  # noqa: F401
    ExecutionWave = ManifestParser = resolve_selection = None  # type: ignore[assignment,misc]

try:  # the mixins land with their owners' modules
    from prefect_dbt.core._hooks import DbtHookContext, DbtHookMixin
except ImportError:  # pragma: no cover
    DbtHookContext = None  # type: ignore[assignment,misc]

    class DbtHookMixin:  # type: ignore[no-redef]
        def _initialize_dbt_hooks(self) -> None:
            pass

        def _has_dbt_hooks(self) -> bool:
            return False

try:
    from prefect_dbt.core._per_node import PerNodeExecutionMixin
except ImportError:  # pragma: no cover
    class PerNodeExecutionMixin:  # type: ignore[no-redef]
        pass

try:
    from prefect_dbt.core._cache import NodeCacheMixin
except ImportError:  # pragma: no cover
    class NodeCacheMixin:  # type: ignore[no-redef]
        pass

logger = logging.getLogger(__name__)

# How many distinct dbt global log lines per-node runs remember to say each only once.
_GLOBAL_LOG_DEDUPE_MAX_KEYS = 10_000


class ExecutionMode(Enum):
    """PER_WAVE: one `dbt build` per wave (cheap; a failure fails the wave's remaining
    downstream). PER_NODE: one task run per node, with retries, caching and concurrency."""

    PER_NODE = "per_node"
    PER_WAVE = "per_wave"


class TestStrategy(Enum):
    """When tests run. IMMEDIATE: right after the models they test, as `dbt build` does (a
    failing test skips what is downstream). DEFERRED: all after the last model. SKIP: never."""

    __test__ = False  # not a pytest test class

    IMMEDIATE = "immediate"
    DEFERRED = "deferred"
    SKIP = "skip"


_UNIT_TYPE = getattr(NodeType, "Unit", None)  # dbt >= 1.8
_TEST_NODE_TYPES = frozenset(t for t in (NodeType.Test, _UNIT_TYPE) if t is not None)
_NODE_COMMAND = {NodeType.Model: "run", NodeType.Seed: "seed", NodeType.Snapshot: "snapshot",
                 NodeType.Test: "test", **({_UNIT_TYPE: "test"} if _UNIT_TYPE else {})}
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
        self._concurrency = concurrency
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

    def _resolve_target_path(self) -> Path:
        """The target folder: the explicit manifest's folder, else settings.target_path."""
        if self._manifest_path is None:
            return self._settings.target_path
        return self._absolute(self._manifest_path).parent

    def _absolute(self, path: Path) -> Path:
        path = Path(path)
        return path if path.is_absolute() else (self._settings.project_dir / path).resolve()


def _enum_value(enum: type[Enum], value: Any, name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ValueError(f"Invalid {name} {value!r}. Must be one of: {allowed}") from None
