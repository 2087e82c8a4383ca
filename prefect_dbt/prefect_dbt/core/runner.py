"""PrefectDbtRunner: dbt's programmatic runner as Prefect's prefect_dbt.core runs it, in this
process. Within a flow or task run, each node dbt starts becomes a run of its own (a child of
the invoking run) that ends when dbt reports the node finished, and dbt's log lines go to
the run log; hooks registered with on_run_start, post_model and on_run_end are called around
the command and after each node.

dbt's events reach us on dbt's threads: a callback puts them on a priority queue (node starts
first, then node ends, then log lines) that one worker thread drains, so dbt never waits for
a node run to be recorded.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import click

# Module globals looked up at each call, so code written against Prefect's runner (its tests
# included) can replace them with patch("prefect_dbt.core.runner.<name>").
from dbt.cli.main import cli, dbtRunner
from dbt.compilation import Linker
from dbt.contracts.graph.manifest import Manifest
from dbt.contracts.graph.nodes import ManifestNode, SourceDefinition
from dbt.contracts.results import (
    FreshnessStatus,
    NodeStatus,
    RunExecutionResult,
    RunStatus,
    TestStatus,
)
from dbt.contracts.state import load_result_state
from dbt.graph.graph import Graph, UniqueId
from dbt.node_types import NodeType
from google.protobuf.json_format import MessageToDict

from core_blocks.runtime.run_logging import get_run_logger
from core_blocks.runtime.task import Task as _CoreTask
from core_blocks.secret_values import mask_known
from prefect_dbt.core._artifacts import MAX_ASSET_DESCRIPTION_LENGTH, Asset, AssetProperties
from prefect_dbt.core._hooks import DbtHookContext, DbtHookMixin
from prefect_dbt.core._tracker import NodeTaskTracker, hydrated_context, serialize_context
from prefect_dbt.core.settings import LogLevel, PrefectDbtSettings
from prefect_dbt.errors import DbtFailure, DbtInvocationError
from prefect_dbt.utilities import format_asset_name, format_resource_id, kwargs_to_args

try:
    from dbt.contracts.graph.nodes import UnitTestDefinition
except ImportError:  # dbt-core < 1.8
    UnitTestDefinition = None  # type: ignore[assignment,misc]

__all__ = ["PrefectDbtRunner", "execute_dbt_node", "serialize_context"]

logger = logging.getLogger(__name__)

FAILURE_STATUSES = [RunStatus.Error, TestStatus.Error, TestStatus.Fail, FreshnessStatus.Error,
                    FreshnessStatus.RuntimeErr, NodeStatus.Error, NodeStatus.Fail,
                    NodeStatus.RuntimeErr]
SKIPPED_STATUSES = [RunStatus.Skipped, TestStatus.Skipped, NodeStatus.Skipped]
MATERIALIZATION_NODE_TYPES = [NodeType.Model, NodeType.Seed, NodeType.Snapshot]
REFERENCE_NODE_TYPES = [NodeType.Exposure, NodeType.Source]
# (setting, dbt flag, converter): taken out of invoke's args and kwargs into the runner
SETTINGS_CONFIG = [("target_path", "--target-path", Path),
                   ("profiles_dir", "--profiles-dir", Path),
                   ("project_dir", "--project-dir", Path),
                   ("log_level", "--log-level", LogLevel)]
FAILURE_MSG = '{resource_type} {resource_name} {status}ed with message: "{message}"'

_LEVEL_RANK = {"debug": 0, "test": 1, "info": 2, "warn": 3, "error": 4, "none": 5}
_LOG_METHOD = {"debug": logging.DEBUG, "test": logging.DEBUG, "info": logging.INFO,
               "warn": logging.WARNING, "error": logging.ERROR}
_PRIORITY = {"NodeStart": 0, "NodeFinished": 1}  # every other event: 2
# A node run waits this long for dbt's end of the node once dbt itself has returned
_DRAIN_SECONDS = 30.0


class DbtNodeFailed(Exception):
    """A dbt node that ended in error or failure (the state of its run in the history)."""


class DbtRunFailed(DbtFailure, ValueError):
    """Nodes failed in a dbt command run with raise_on_failure: a ValueError, as Prefect's
    runner raises, and a DbtFailure whose `.result` holds every node's outcome."""


class DbtCommandError(DbtInvocationError, ValueError):
    """dbt could not run the command at all (a ValueError, as Prefect's runner raises)."""


class TaskOptions(TypedDict, total=False):
    """The options a node's run is made with, as Prefect's TaskOptions names them."""

    task_run_name: str
    asset_deps: list[Asset] | None


class Task(_CoreTask):
    """core_blocks' Task made with Prefect's keywords as the runner passes them: `fn`,
    `task_run_name` (each run's name) and `asset_deps` (kept on the task: our runtime has no
    asset graph)."""

    other_keywords = ("task_run_name", "asset_deps", "cache_policy")

    def __init__(self, fn: Callable[..., Any], *, task_run_name: str | None = None,
                 asset_deps: list[Asset] | None = None, cache_policy: Any = None,
                 **options: Any) -> None:
        super().__init__(fn, **{"name": task_run_name or fn.__name__, **options})
        self.task_run_name = task_run_name
        self.asset_deps = list(asset_deps or [])


class MaterializingTask(Task):
    """A node run that builds a table or view: the Task, with the `assets` it materializes
    and what materializes them (`materialized_by`, "dbt")."""

    other_keywords = (*Task.other_keywords, "assets", "materialized_by")

    def __init__(self, fn: Callable[..., Any], *, assets: list[Asset],
                 materialized_by: str | None = None, **options: Any) -> None:
        super().__init__(fn, **options)
        self.assets = list(assets)
        self.materialized_by = materialized_by


def execute_dbt_node(task_state: NodeTaskTracker, node_id: str, asset_id: str | None) -> None:
    """A node's run: wait until dbt reports the node finished, then fail if dbt says it
    errored or failed. `asset_id` names the table it builds, when it builds one."""
    task_state.wait_for_node_completion(node_id)
    status = task_state.get_node_status(node_id)
    if not status:
        return
    node_status = status["event_data"].get("node_info", {}).get("node_status")
    said = status["event_data"].get("run_result", {}).get("message")
    if node_status in FAILURE_STATUSES:
        message = " ".join(str(said or status.get("event_message") or "").split())
        raise DbtNodeFailed(f"Node {node_id} finished with status {node_status}"
                            + (f": {message}" if message else ""))
    if asset_id:
        _record_assets(task_state.get_task(node_id), said)


def _record_assets(task: Any, message: str | None) -> None:
    """The tables a MaterializingTask's run wrote, with those it read, as a "dbt-asset"
    markdown artifact of the run (where Prefect records asset events), as the
    orchestrator's per-node runs do."""
    assets = getattr(task, "assets", None)
    if not isinstance(assets, list):
        return
    from core_blocks.runtime.artifacts import create_markdown_artifact
    from prefect_dbt.core._per_node import _asset_markdown

    for asset in assets:
        markdown = _asset_markdown(asset, task.asset_deps)
        create_markdown_artifact("dbt-asset", markdown + (f"\n\ndbt: {message}" if message
                                                          else ""), description=asset.key)


class PrefectDbtRunner(DbtHookMixin):
    """Run dbt commands as `dbtRunner().invoke` does, with the project and profiles of
    `settings` (profiles.yml may refer to saved blocks, see
    PrefectDbtSettings.resolve_profiles_yml).

    Within a flow or task run (or always, with `_force_nodes_as_tasks`), each node is a run
    named "<type> <name>" (e.g. "model orders") whose state is the node's, and dbt's lines
    go to the run log at `settings.log_level`; elsewhere dbt prints its own log. With
    `raise_on_failure` (default) failed nodes raise DbtRunFailed and a command dbt could not
    run DbtCommandError (both ValueErrors, as in Prefect). The run of a node that builds a
    relation records it (its asset, with the tables it read) as a "dbt-asset" artifact,
    unless `disable_assets` or the node's `meta: {prefect: {enable_assets: false}}`;
    `include_compiled_code` adds the compiled SQL to its description. `client` is accepted
    for Prefect's signature; by default it is the run store, where our runtime keeps what
    Prefect's API would.

        runner = PrefectDbtRunner(settings=PrefectDbtSettings(project_dir="shop"))

        @runner.post_model(select="tag:finance")
        def announce(ctx):
            print(ctx.node_id, ctx.status)

        runner.invoke(["build"])
    """

    def __init__(self, manifest: Manifest | None = None,
                 settings: PrefectDbtSettings | None = None, raise_on_failure: bool = True,
                 client: Any = None, include_compiled_code: bool = False,
                 disable_assets: bool = False, _force_nodes_as_tasks: bool = False,
                 _disable_callbacks: bool = False) -> None:
        self._initialize_dbt_hooks()
        self._manifest: Manifest | None = manifest
        self.settings = settings or PrefectDbtSettings()
        self.raise_on_failure = raise_on_failure
        self._client = client
        self.include_compiled_code = include_compiled_code
        self.disable_assets = disable_assets
        self._force_nodes_as_tasks = _force_nodes_as_tasks
        self._disable_callbacks = _disable_callbacks
        self._project_name: str | None = None
        self._target_path: Path | str | None = None
        self._profiles_dir: Path | str | None = None
        self._project_dir: Path | str | None = None
        self._log_level: LogLevel | None = None
        self._graph: Graph | None = None
        self._skipped_nodes: set[str] = set()
        self._started_nodes: set[str] = set()
        self._event_queue: queue.PriorityQueue | None = None
        self._callback_thread: threading.Thread | None = None
        self._shutdown_event: threading.Event | None = None
        self._queue_counter = 0  # orders events of one priority, and is never compared twice
        self._queue_counter_lock = threading.Lock()
        self._raw_setting_values: dict[str, str] = {}
        self._active_hook_command = ""
        self._active_hook_args: tuple[str, ...] = ()
        self._active_hook_selection_cache: dict[str, set[str]] = {}
        self.tracker = NodeTaskTracker()

    # -- settings, as the last invoke was given them or from `settings` -----------------------

    @property
    def client(self) -> Any:
        """As given, else the run store (opened on first use)."""
        if self._client is None:
            from core_blocks.store import get_store

            self._client = get_store()
        return self._client

    @property
    def target_path(self) -> Path:
        return Path(self._target_path or self.settings.target_path)

    @property
    def profiles_dir(self) -> Path:
        return Path(self._profiles_dir or self.settings.profiles_dir)

    @property
    def project_dir(self) -> Path:
        return Path(self._project_dir or self.settings.project_dir)

    @property
    def log_level(self) -> LogLevel:
        return self._log_level or self.settings.log_level

    # -- the manifest and its graph ----------------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        """dbt's manifest: as given, else target/manifest.json (read once)."""
        if self._manifest is None:
            self._set_manifest_from_project_dir()
        return self._manifest

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            self._set_graph_from_manifest()
        return self._graph

    @property
    def project_name(self) -> str:
        if self._project_name is None:
            self._set_project_name_from_manifest()
        return self._project_name

    def _set_project_name_from_manifest(self) -> None:
        self._project_name = self.manifest.metadata.project_name

    def _set_graph_from_manifest(self, add_test_edges: bool = False) -> None:
        """The node graph; with `add_test_edges`, as `dbt build` orders it (a node after the
        tests of its parents)."""
        linker = Linker()
        linker.link_graph(self.manifest)
        if add_test_edges:
            self.manifest.build_parent_and_child_maps()
            linker.add_test_edges(self.manifest)
        self._graph = Graph(linker.graph)

    def _set_manifest_from_project_dir(self) -> None:
        path = os.path.join(self.project_dir, self.target_path, "manifest.json")
        try:
            with open(path) as handle:
                self._manifest = Manifest.from_dict(json.load(handle))
        except FileNotFoundError:
            raise ValueError(f"Manifest file not found in {path}. Run `dbt parse` (or any "
                             "command) in the project first, or pass manifest=.") from None

    def _get_node_prefect_config(self, manifest_node: Any) -> dict[str, Any]:
        """The node's `meta: {prefect: {...}}` (a source keeps meta outside its config)."""
        if isinstance(manifest_node, SourceDefinition):
            return manifest_node.meta.get("prefect", {})
        return manifest_node.config.meta.get("prefect", {})

    def _get_upstream_manifest_nodes_and_configs(self, manifest_node: Any
                                                 ) -> list[tuple[Any, dict[str, Any]]]:
        """(node, prefect config) of each node `manifest_node` reads from: an ephemeral
        model is looked through to what it reads, and a source without a relation is left
        out (neither is a table of its own)."""
        found: list[tuple[Any, dict[str, Any]]] = []
        seen: set[str] = set()
        nodes, sources = self.manifest.nodes, self.manifest.sources

        def visit(node: Any) -> None:
            for parent_id in node.depends_on_nodes:
                if parent_id in seen:
                    continue
                seen.add(parent_id)
                parent = nodes.get(parent_id) or sources.get(parent_id)
                if not parent:
                    continue
                if parent_id in sources and not parent.relation_name:
                    continue
                if parent_id in nodes and parent.config.materialized == "ephemeral":
                    visit(parent)
                    continue
                found.append((parent, self._get_node_prefect_config(parent)))

        visit(manifest_node)
        return found

    def _get_manifest_node_and_config(self, node_id: str) -> tuple[Any, dict[str, Any]]:
        """The manifest's node (or unit test) `node_id` and its prefect config; (None, {})
        when the manifest has neither."""
        node = self.manifest.nodes.get(node_id)
        if node is None:
            node = getattr(self.manifest, "unit_tests", {}).get(node_id)
        if node:
            return node, node.config.meta.get("prefect", {})
        return None, {}

    # -- compiled code and assets ------------------------------------------------------------

    def _get_compiled_code_path(self, manifest_node: Any) -> Path:
        return (Path(self.project_dir) / self.target_path / "compiled" / self.project_name
                / manifest_node.original_file_path)

    def _get_compiled_code(self, manifest_node: Any) -> str:
        """The node's compiled SQL as a markdown section for its asset's description, when
        include_compiled_code is on and dbt compiled it ("" otherwise, and for sources); a
        note instead when it would not fit in a description."""
        if not self.include_compiled_code or isinstance(manifest_node, SourceDefinition):
            return ""
        path = self._get_compiled_code_path(manifest_node)
        if not os.path.exists(path):
            return ""
        code = Path(path).read_text().strip()
        section = f"\n ### Compiled code\n```sql\n{code}\n```"
        if len(section) <= MAX_ASSET_DESCRIPTION_LENGTH:
            return section
        note = (f"Compiled code for {manifest_node.name} was omitted because it exceeded the "
                f"maximum asset description length of {MAX_ASSET_DESCRIPTION_LENGTH} "
                "characters.")
        get_run_logger().warning(note)
        return "\n ### Compiled code\n" + note

    def _create_asset_from_node(self, manifest_node: Any, adapter_type: str) -> Asset:
        """The Asset of the relation the node builds or reads (a source), named after the
        relation, owned by its `meta.owner`, described by its description (and compiled
        code, dropped first when the two do not fit)."""
        if not manifest_node.relation_name:
            raise ValueError("Relation name not found in manifest")
        meta = (manifest_node.meta if isinstance(manifest_node, SourceDefinition)
                else manifest_node.config.meta)
        owner = meta.get("owner")
        properties: dict[str, Any] = {"name": format_asset_name(manifest_node.relation_name)}
        base = manifest_node.description or ""
        description = base + self._get_compiled_code(manifest_node)
        if len(description) > MAX_ASSET_DESCRIPTION_LENGTH:
            description = (base if len(base) <= MAX_ASSET_DESCRIPTION_LENGTH
                           else base[:MAX_ASSET_DESCRIPTION_LENGTH - 3] + "...")
        if description:
            properties["description"] = description
        if owner and isinstance(owner, str):
            properties["owners"] = [owner]
        return Asset(key=format_resource_id(adapter_type, manifest_node.relation_name),
                     properties=AssetProperties(**properties))

    def _create_task_options(self, manifest_node: Any,
                             upstream_assets: list[Asset] | None = None) -> TaskOptions:
        kind = manifest_node.resource_type.lower()
        return TaskOptions(task_run_name=f"{kind} {manifest_node.name or manifest_node.unique_id}",
                           asset_deps=upstream_assets)

    # -- node runs -----------------------------------------------------------------------------

    def _call_task(self, task_state: NodeTaskTracker, manifest_node: Any,
                   context: dict[str, Any], enable_assets: bool) -> None:
        """Start the node's run on a thread of its own, after its upstream nodes' runs; it
        ends when dbt reports the node finished."""
        adapter_type = self.manifest.metadata.adapter_type
        if not adapter_type:
            raise ValueError("Adapter type not found in manifest")
        upstream = self._get_upstream_manifest_nodes_and_configs(manifest_node)
        asset_id = None
        # An ephemeral model is a model without a relation: a plain run, no asset
        if (manifest_node.resource_type in MATERIALIZATION_NODE_TYPES and enable_assets
                and manifest_node.relation_name):
            upstream_assets = [
                self._create_asset_from_node(node, adapter_type) for node, config in upstream
                if node.resource_type in REFERENCE_NODE_TYPES
                or (node.resource_type in MATERIALIZATION_NODE_TYPES
                    and config.get("enable_assets", True))]
            options = self._create_task_options(manifest_node, upstream_assets)
            asset_id = format_resource_id(adapter_type, manifest_node.relation_name)
            task: Any = MaterializingTask(
                fn=execute_dbt_node, assets=[self._create_asset_from_node(
                    manifest_node, adapter_type)], materialized_by="dbt", **options)
        else:
            options = self._create_task_options(manifest_node)
            task = Task(fn=execute_dbt_node, **options)

        node_id = manifest_node.unique_id
        task_state.start_task(node_id, task)
        task_state.set_node_dependencies(node_id, [node.unique_id for node, _ in upstream])
        task_run_id = _new_id()
        task_state.set_task_run_id(node_id, task_run_id)
        task_state.set_task_run_name(node_id, options.get("task_run_name"))
        task_state.run_task_in_thread(
            node_id, task, task_run_id=task_run_id,
            parameters={"task_state": task_state, "node_id": node_id, "asset_id": asset_id},
            context=context)

    @staticmethod
    def _resolve_hook_status(node_status: Any) -> str | None:
        if node_status in FAILURE_STATUSES:
            return "error"
        if node_status in SKIPPED_STATUSES:
            return "skipped"
        return None if node_status is None else "success"

    def _run_post_model_hooks(self, node_id: str, event_data: dict[str, Any],
                              event_message: str) -> None:
        """The post_model hooks, for a model (other nodes call none)."""
        node, _ = self._get_manifest_node_and_config(node_id)
        if node is None or node.resource_type != NodeType.Model:
            return
        status = event_data.get("node_info", {}).get("node_status")
        self._run_dbt_hooks("post_model", DbtHookContext(
            event="post_model", command=self._active_hook_command, owner=self,
            args=self._active_hook_args, node=node,
            status=self._resolve_hook_status(status),
            result={"event_data": event_data, "message": event_message},
            error=event_message if status in FAILURE_STATUSES else None,
            node_ids=(node_id,)), selection_cache=self._active_hook_selection_cache)

    @staticmethod
    def _determine_invoked_command(args: list[str]) -> str:
        """The dbt command in args ("build", "source freshness"), past options and their
        values; the first argument when none is a dbt command."""
        command, subcommand = _find_command(args)
        if command:
            return f"{command} {subcommand}" if subcommand else command
        return args[0] if args else ""

    @staticmethod
    def _extract_run_artifacts(res: Any) -> dict[str, dict[str, Any]]:
        """unique_id -> {"status", "message", "execution_time"} of each node dbt ran."""
        items = getattr(getattr(res, "result", None), "results", None)
        if not isinstance(items, (list, tuple)):
            return {}
        artifacts: dict[str, dict[str, Any]] = {}
        for item in items:
            node_id = getattr(item, "unique_id", None) or getattr(
                getattr(item, "node", None), "unique_id", None)
            if node_id is not None:
                artifacts[node_id] = {"status": str(getattr(item, "status", "")),
                                      "message": getattr(item, "message", ""),
                                      "execution_time": getattr(item, "execution_time", 0.0)}
        return artifacts

    # -- dbt's events --------------------------------------------------------------------------

    @staticmethod
    def get_dbt_event_msg(event: Any) -> str:
        return event.info.msg

    def _get_dbt_event_node_id(self, event: Any) -> str:
        return event.data.node_info.unique_id

    def _start_callback_processor(self) -> None:
        """Start the worker that handles queued events (once per invoke)."""
        if self._event_queue is None:
            self._event_queue = queue.PriorityQueue()
            self._shutdown_event = threading.Event()
            self._callback_thread = threading.Thread(
                target=self._callback_worker, daemon=True, name="dbt-callback-processor")
            self._callback_thread.start()

    def _stop_callback_processor(self) -> None:
        """Stop the worker and forget this invoke's queue and node bookkeeping, so the next
        invoke starts afresh."""
        if self._shutdown_event:
            self._shutdown_event.set()
        if self._event_queue:
            self._event_queue.put((0, -1, None))  # ahead of anything still queued
        if self._callback_thread and self._callback_thread.is_alive():
            self._callback_thread.join(timeout=5.0)
        self._event_queue = None
        self._callback_thread = None
        self._shutdown_event = None
        self._queue_counter = 0
        self._skipped_nodes = set()
        self._started_nodes = set()

    def _callback_worker(self) -> None:
        """Handle queued events until told to stop; a failing handler is logged and the
        next event still handled."""
        events, shutdown = self._event_queue, self._shutdown_event
        while not shutdown.is_set():
            try:
                _, _, item = events.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                if item is None:
                    break
                handler, event = item
                handler(event)
            except Exception as exc:
                get_run_logger().warning("Error processing dbt callback event: %s", exc)
            finally:
                events.task_done()

    def _get_event_priority(self, event: Any) -> int:
        """0 for a node's start (its run must exist first), 1 for its end, 2 otherwise."""
        return _PRIORITY.get(event.info.name, 2)

    def _queue_callback(self, callback_func: Callable[[Any], None], event: Any,
                        priority: int | None = None) -> None:
        """Queue `callback_func(event)` for the worker (called at once without one)."""
        if self._event_queue is None:
            callback_func(event)
            return
        if priority is None:
            priority = self._get_event_priority(event)
        with self._queue_counter_lock:
            counter = self._queue_counter
            self._queue_counter += 1
        self._event_queue.put((priority, counter, (callback_func, event)))

    def _event_handlers(self, task_state: NodeTaskTracker, log_level: Any,
                        context: dict[str, Any], add_test_edges: bool,
                        create_tasks_for_nodes: bool) -> dict[str, Callable[[Any], None]]:
        """The worker's handlers: "NodeStart", "NodeFinished" and "log"."""
        floor = _LEVEL_RANK.get(str(getattr(log_level, "value", log_level)), 2)

        def log(event: Any) -> None:
            level = str(event.info.level)
            if _LEVEL_RANK.get(level, -1) < floor:
                return
            data = MessageToDict(event.data, preserving_proto_field_name=True)
            prefix = None
            if data.get("node_info"):
                node_id = self._get_dbt_event_node_id(event)
                if node_id in self._skipped_nodes:
                    return
                flow_context = context.get("flow_run_context") or {}
                log_to = task_state.get_task_logger(node_id, flow_context.get("flow_run"),
                                                    flow_context.get("flow"))
                prefix = task_state.get_task_run_name(node_id)
            else:
                with hydrated_context(context) as run_context:
                    log_to = get_run_logger()
                if run_context is not None:
                    prefix = run_context.run.name
            message = self.get_dbt_event_msg(event)
            number = _LOG_METHOD.get(level, logging.INFO)
            if prefix:
                log_to.log(number, "%s | %s", prefix, message)
            else:
                log_to.log(number, "%s", message)

        def node_started(event: Any) -> None:
            node_id = self._get_dbt_event_node_id(event)
            if node_id in self._skipped_nodes:
                return
            node, config = self._get_manifest_node_and_config(node_id)
            if not node:
                return
            # A unit test has no materialization: only a ManifestNode can be ephemeral
            if isinstance(node, ManifestNode) and node.config.materialized == "ephemeral":
                self._skipped_nodes.add(node_id)
                return
            if create_tasks_for_nodes:
                self._started_nodes.add(node_id)
                enable_assets = config.get("enable_assets", True) and not self.disable_assets
                self._call_task(task_state, node, context, enable_assets)

        def node_finished(event: Any) -> None:
            node_id = self._get_dbt_event_node_id(event)
            if node_id in self._skipped_nodes and node_id not in self._started_nodes:
                return
            node, _ = self._get_manifest_node_and_config(node_id)
            if not node:
                return
            data = MessageToDict(event.data, preserving_proto_field_name=True)
            message = self.get_dbt_event_msg(event)
            task_state.set_node_status(node_id, data, message)
            self._run_post_model_hooks(node_id, data, message)
            status = (data.get("node_info") or {}).get("node_status")
            if status in SKIPPED_STATUSES or status in FAILURE_STATUSES:
                # dbt skips what depends on it: no runs for those
                self._set_graph_from_manifest(add_test_edges=add_test_edges)
                self._skipped_nodes.update(self.graph.get_dependent_nodes(UniqueId(node_id)))

        return {"NodeStart": node_started, "NodeFinished": node_finished, "log": log}

    def _create_unified_callback(self, task_state: NodeTaskTracker, log_level: Any,
                                 context: dict[str, Any], add_test_edges: bool = False,
                                 create_tasks_for_nodes: bool = True
                                 ) -> Callable[[Any], None]:
        """The one callback given to dbt: node starts and ends, and log lines at or above
        `log_level` with a message, are queued for the worker; everything else is dropped
        on dbt's thread."""
        self._start_callback_processor()
        handlers = self._event_handlers(task_state, log_level, context, add_test_edges,
                                        create_tasks_for_nodes)
        floor = _LEVEL_RANK.get(str(getattr(log_level, "value", log_level)), 2)

        def callback(event: Any) -> None:
            name = event.info.name
            if name in _PRIORITY:
                self._queue_callback(handlers[name], event, priority=_PRIORITY[name])
                return
            if _LEVEL_RANK.get(str(event.info.level), -1) < floor:
                return
            message = getattr(event.info, "msg", None)
            if isinstance(message, str) and message.strip():
                self._queue_callback(handlers["log"], event, priority=2)

        return callback

    def _create_logging_callback(self, task_state: NodeTaskTracker, log_level: Any,
                                 context: dict[str, Any]) -> Callable[[Any], None]:
        """A callback for dbt's log lines only (the unified callback does all three)."""
        self._start_callback_processor()
        log = self._event_handlers(task_state, log_level, context, False, False)["log"]

        def callback(event: Any) -> None:
            if event.info.name not in _PRIORITY:
                self._queue_callback(log, event)

        return callback

    def _create_node_started_callback(self, task_state: NodeTaskTracker,
                                      context: dict[str, Any]) -> Callable[[Any], None]:
        """A callback for node starts only (the unified callback does all three)."""
        self._start_callback_processor()
        started = self._event_handlers(task_state, LogLevel.INFO, context, False,
                                       True)["NodeStart"]

        def callback(event: Any) -> None:
            if event.info.name == "NodeStart":
                self._queue_callback(started, event, priority=0)

        return callback

    def _create_node_finished_callback(self, task_state: NodeTaskTracker,
                                       context: dict[str, Any], add_test_edges: bool = False
                                       ) -> Callable[[Any], None]:
        """A callback for node ends only (the unified callback does all three)."""
        self._start_callback_processor()
        finished = self._event_handlers(task_state, LogLevel.INFO, context, add_test_edges,
                                        True)["NodeFinished"]

        def callback(event: Any) -> None:
            if event.info.name == "NodeFinished":
                self._queue_callback(finished, event, priority=1)

        return callback

    # -- arguments -------------------------------------------------------------------------------

    def _extract_flag_value(self, args: list[str], flag: str) -> tuple[list[str], str | None]:
        """`args` without `flag` and its value, and the value (None when absent)."""
        rest = list(args)
        for at, arg in enumerate(rest[:-1]):
            if arg == flag:
                value = rest[at + 1]
                del rest[at:at + 2]
                return rest, value
        return rest, None

    def _update_setting_from_kwargs(self, setting_name: str, kwargs: dict[str, Any],
                                    path_converter: Callable[[Any], Any] | None = None
                                    ) -> None:
        """Take `setting_name` out of dbt's keyword options into this runner's override."""
        if setting_name in kwargs:
            value = kwargs.pop(setting_name)
            if path_converter is Path:
                self._raw_setting_values[setting_name] = str(value)  # as the user wrote it
            setattr(self, f"_{setting_name}", path_converter(value) if path_converter
                    else value)

    def _update_setting_from_cli_flag(self, args: list[str], flag: str, setting_name: str,
                                      path_converter: Callable[[str], Any] | None = None
                                      ) -> list[str]:
        """Take `flag VALUE` out of `args` into this runner's override of `setting_name`."""
        rest, value = self._extract_flag_value(args, flag)
        if value:
            converted = path_converter(value) if path_converter else value
            if path_converter is Path:
                self._raw_setting_values[setting_name] = str(converted)
            setattr(self, f"_{setting_name}", converted)
        return rest

    def _stringified_setting_value(self, setting_name: str) -> str:
        raw = self._raw_setting_values.get(setting_name)
        if raw is not None:
            return raw
        value = getattr(self, f"_{setting_name}")
        return str(getattr(self, setting_name) if value is None else value)

    # -- invoke ----------------------------------------------------------------------------------

    def invoke(self, args: list[str], **kwargs: Any) -> Any:
        """Run `dbt <args>`; kwargs are dbt's own options (`select=["orders"]`,
        `full_refresh=True`) and the settings (`project_dir=`, `target_path=`,
        `profiles_dir=`, `log_level=`); a leading "dbt" in args is dropped. Returns dbt's
        dbtRunnerResult."""
        for setting, _, converter in SETTINGS_CONFIG:
            self._update_setting_from_kwargs(setting, kwargs, converter)
        args_copy = list(args[1:] if args[:1] == ["dbt"] else args)  # as typed in a shell
        for setting, flag, converter in SETTINGS_CONFIG:
            args_copy = self._update_setting_from_cli_flag(args_copy, flag, setting, converter)

        context = serialize_context()
        in_run = bool(context.get("flow_run_context") or context.get("task_run_context"))
        task_state = self.tracker = NodeTaskTracker()
        add_test_edges = "build" in args_copy
        if "retry" in args_copy:
            add_test_edges = self._previous_command_was_build() or add_test_edges

        create_tasks_for_nodes = in_run or self._force_nodes_as_tasks
        callbacks = []
        if not self._disable_callbacks and (create_tasks_for_nodes
                                            or self._dbt_hooks["post_model"]):
            callbacks.append(self._create_unified_callback(
                task_state, self.log_level, context, add_test_edges=add_test_edges,
                create_tasks_for_nodes=create_tasks_for_nodes))

        command_label = self._determine_invoked_command(args_copy)
        invoke_kwargs = self._settings_for_command(args_copy, in_run)
        invoke_kwargs.update(kwargs)
        try:
            res, artifacts = self._run_dbt(args_copy, invoke_kwargs, callbacks, command_label)
        finally:
            if self._event_queue is not None:
                self._event_queue.join()
                self._stop_callback_processor()
            self._end_node_runs(task_state)

        if self._has_dbt_hooks():
            self._run_dbt_hooks("run_end", DbtHookContext(
                event="run_end", command=command_label, owner=self, args=tuple(args_copy),
                status="success" if res.success else "error", result={"success": res.success},
                run_results=artifacts, error=res.exception, node_ids=tuple(artifacts)),
                selection_cache=self._active_hook_selection_cache)
            self._active_hook_command, self._active_hook_args = "", ()
            self._active_hook_selection_cache = {}
        if in_run:
            self._attach_summary(res, args_copy)
        self._raise_for(res, args_copy)
        return res

    def _previous_command_was_build(self) -> bool:
        """For `dbt retry`: whether the run it retries was a build (read from
        run_results.json; there must be one)."""
        previous = load_result_state(Path(self.project_dir) / self.target_path
                                     / "run_results.json")
        if not previous:
            raise ValueError(f"Cannot retry. No previous results found at target path "
                             f"{self.target_path}")
        self.previous_command_name = previous.args.get("which")
        return self.previous_command_name == "build"

    def _settings_for_command(self, args: list[str], in_run: bool) -> dict[str, Any]:
        """The settings as dbt keyword options, only those the command takes (`deps` takes
        no target path). In a run dbt's console is silent: its lines come through the
        callback into the run log instead."""
        command, subcommand = _find_command(args)
        valid = None
        if command:
            found = cli.commands[command]
            if subcommand:
                found = found.commands[subcommand]
            valid = {param.name for param in found.params}
        wanted = {
            "profiles_dir": str(self.profiles_dir),
            "project_dir": self._stringified_setting_value("project_dir"),
            "target_path": self._stringified_setting_value("target_path"),
            "log_level": "none" if in_run else str(self.log_level.value),
            "log_level_file": str(self.log_level.value),
        }
        if not any(arg.endswith("send-anonymous-usage-stats") for arg in args):
            wanted["send_anonymous_usage_stats"] = False  # no calls home from a pipeline
        if in_run and not any(arg.endswith("use-colors") for arg in args):
            wanted["use_colors"] = False  # the run log is not a terminal
        return {key: value for key, value in wanted.items() if valid is None or key in valid}

    def _run_dbt(self, args: list[str], invoke_kwargs: dict[str, Any],
                 callbacks: list[Callable[[Any], None]], command_label: str
                 ) -> tuple[Any, dict[str, dict[str, Any]]]:
        """dbt's result and its nodes' artifacts, with profiles.yml's block references
        resolved for the time dbt runs; run_start hooks before."""
        from prefect_dbt.runner import invoke

        with self.settings.resolve_profiles_yml() as profiles_dir:
            invoke_kwargs["profiles_dir"] = profiles_dir
            if self._has_dbt_hooks():
                self._active_hook_command = command_label
                self._active_hook_args = tuple(args)
                self._active_hook_selection_cache = self._build_dbt_hook_selection_cache(
                    project_dir=self.project_dir, profiles_dir=Path(profiles_dir),
                    target_path=self.target_path, target=invoke_kwargs.get("target"))
                self._run_dbt_hooks("run_start", DbtHookContext(
                    event="run_start", command=command_label, owner=self, args=tuple(args)),
                    selection_cache=self._active_hook_selection_cache)
            # prefect_dbt.runner.invoke runs one dbt at a time in this process; dbtRunner is
            # this module's, looked up now
            res = invoke(kwargs_to_args(invoke_kwargs, args), _ignore_line,
                         runner_class=lambda **_: dbtRunner(callbacks=callbacks))
        return res, self._extract_run_artifacts(res)

    def _end_node_runs(self, task_state: NodeTaskTracker) -> None:
        """Wait for the node runs to be recorded; a node dbt never reported finished (dbt
        stopped first) ends as an error, so its run does not wait forever."""
        for node_id in task_state.unfinished_nodes():
            task_state.set_node_status(
                node_id, {"node_info": {"unique_id": node_id, "node_status": "error"}},
                "dbt ended before reporting this node finished")
        task_state.wait_for_tasks(timeout=_DRAIN_SECONDS)

    def _attach_summary(self, res: Any, args: list[str]) -> None:
        """A table of the nodes' outcomes, as an artifact of the invoking run."""
        if not isinstance(getattr(res, "result", None), RunExecutionResult):
            return
        from prefect_dbt.cli.commands import _attach_summary

        nodes = _node_results(res)
        if nodes:
            _attach_summary(_as_dbt_result(self._determine_invoked_command(args), res,
                                           nodes), args, None)

    def _raise_for(self, res: Any, args: list[str]) -> None:
        """DbtCommandError or DbtRunFailed as dbt's result calls for; dbt's messages (which
        may quote profiles.yml) with every secret value this process knows masked."""
        command = " ".join(args)
        if not res.success and res.exception:
            raise DbtCommandError(mask_known(f"Failed to invoke dbt command '{command}': "
                                          f"{res.exception}"))
        if not res.success and self.raise_on_failure:
            failures = [FAILURE_MSG.format(resource_type=r.node.resource_type.title(),
                                           resource_name=r.node.name, status=r.status,
                                           message=r.message)
                        for r in res.result.results if r.status in FAILURE_STATUSES]
            raise DbtRunFailed(mask_known(f"Failures detected during invocation of dbt command "
                                       f"'{command}':\n{os.linesep.join(failures)}"),
                               _as_dbt_result(command, res, _node_results(res)))


def _find_command(args: list[str]) -> tuple[str | None, str | None]:
    """(command, subcommand) of dbt's in args, past options and their values: `--log-format
    json deps` is deps, `source freshness` source's freshness."""
    for at, arg in enumerate(args):
        if arg.startswith("-") or arg not in cli.commands:
            continue
        group = cli.commands[arg]
        if isinstance(group, click.Group) and at + 1 < len(args) \
                and args[at + 1] in group.commands:
            return arg, args[at + 1]
        return arg, None
    return None, None


def _ignore_line(level: str, message: str) -> None:
    """Log lines come through the runner's own callback."""


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex


def _node_results(res: Any) -> list[Any]:
    from prefect_dbt.results import node_results

    try:
        return node_results(res)
    except Exception:  # a result dbt did not make (a stand-in): no nodes to list
        return []


def _as_dbt_result(command: str, res: Any, nodes: list[Any]) -> Any:
    from prefect_dbt.results import DbtResult

    return DbtResult(command, bool(res.success), nodes, res)
