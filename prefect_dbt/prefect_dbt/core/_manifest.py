"""A dbt project as its manifest.json describes it, for the orchestrator.

`DbtNode` is one node (model, seed, snapshot, test, source...); `ManifestParser` reads the
manifest, looks through ephemeral models to the nodes that build something, and orders those
into `ExecutionWave`s; `resolve_selection` asks `dbt ls` which nodes a selector picks. dbt is
imported here, so import this module only where dbt runs (`prefect_dbt.core` exports lazily).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner
from dbt.node_types import NodeType
from dbt_common.events.base_types import EventLevel, EventMsg

from core_blocks.secret_values import mask_known

logger = logging.getLogger(__name__)

_RUNNABLE_TYPES = frozenset({NodeType.Model, NodeType.Seed, NodeType.Snapshot})
_TEST_TYPES = frozenset({NodeType.Test, NodeType.Unit})  # data tests and unit tests
# dbt ls runs with its console silenced; these levels still reach our log, since a selector
# matching nothing is a warning the user must see.
_FORWARDED_LEVELS = {EventLevel.WARN: logging.WARNING, EventLevel.ERROR: logging.ERROR}


def _parse_node_type(resource_type: str) -> NodeType:
    """dbt's NodeType for a manifest's `resource_type`; an unknown one counts as a model."""
    try:
        return NodeType(resource_type)
    except ValueError:
        return NodeType.Model


@dataclass(frozen=True)
class DbtNode:
    """A node of manifest.json: its id, name, type, what it depends on and how it is built.

    Nodes compare by all their fields and hash by `unique_id`. A `resource_type` given as a
    string ("model") becomes dbt's `NodeType` when dbt knows it.

        >>> DbtNode("model.shop.orders", "orders", "model",
        ...         original_file_path="models/orders.sql").dbt_selector
        'path:models/orders.sql'
    """

    unique_id: str
    name: str
    resource_type: NodeType
    depends_on: tuple[str, ...] = ()
    depends_on_macros: tuple[str, ...] = ()
    fqn: tuple[str, ...] = ()
    materialization: str | None = None
    relation_name: str | None = None
    original_file_path: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    compiled_code: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.resource_type, NodeType):
            try:
                object.__setattr__(self, "resource_type", NodeType(self.resource_type))
            except ValueError:
                pass  # kept as given: is_executable is False for it

    @classmethod
    def from_manifest(cls, unique_id: str, data: dict[str, Any],
                      resource_type: NodeType | None = None) -> DbtNode:
        """The node `unique_id` from its manifest.json entry (under `nodes` or `sources`).

        `resource_type` overrides the entry's own; an unknown type counts as a model.
        """
        depends_on = data.get("depends_on") or {}
        config = data.get("config") or {}
        if resource_type is None:
            resource_type = _parse_node_type(
                data.get("resource_type") or unique_id.split(".", 1)[0])
        return cls(
            unique_id=unique_id,
            name=data.get("name") or unique_id.rsplit(".", 1)[-1],
            resource_type=resource_type,
            depends_on=tuple(depends_on.get("nodes") or ()),
            depends_on_macros=tuple(depends_on.get("macros") or ()),
            fqn=tuple(data.get("fqn") or ()),
            materialization=config.get("materialized"),
            relation_name=data.get("relation_name"),
            original_file_path=data.get("original_file_path"),
            config=config,
            description=data.get("description"),
            compiled_code=data.get("compiled_code"),
        )

    @property
    def is_executable(self) -> bool:
        """True for what `dbt run`/`seed`/`snapshot` builds: not tests (run by `dbt test` on
        their own schedule), sources, exposures, or ephemeral models (no database object)."""
        return self.resource_type in _RUNNABLE_TYPES and self.materialization != "ephemeral"

    @property
    def dbt_selector(self) -> str:
        """A `--select` value naming this node alone: `path:<file>` for models, seeds and
        snapshots (one node per file; a YAML file holds many tests), else its dotted fqn,
        else its name."""
        if self.original_file_path and self.resource_type in _RUNNABLE_TYPES:
            return f"path:{self.original_file_path}"
        return ".".join(self.fqn) if self.fqn else self.name

    def __hash__(self) -> int:
        return hash(self.unique_id)

    def __repr__(self) -> str:
        """The dataclass's, with known secrets masked: a relation, its schema or a config
        value may be rendered from a secret."""
        text = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return mask_known(f"DbtNode({text})")


def create_dbt_node_from_manifest_data(unique_id: str, node_data: dict[str, Any]) -> DbtNode:
    """A `DbtNode` from an entry of the manifest's `nodes`."""
    return DbtNode.from_manifest(unique_id, node_data)


def create_dbt_source_node_from_manifest_data(
    unique_id: str, source_data: dict[str, Any]
) -> DbtNode:
    """A `DbtNode` from an entry of the manifest's `sources`."""
    return DbtNode.from_manifest(unique_id, source_data, NodeType.Source)


@dataclass
class ExecutionWave:
    """Nodes that may run at the same time: every dependency of each is in an earlier wave.

    `wave_number` counts from 0 (the nodes that depend on nothing selected).
    """

    wave_number: int
    nodes: list[DbtNode] = field(default_factory=list)


class ManifestParser:
    """Reads a manifest.json (as plain JSON, not dbt's Manifest class) into `DbtNode`s.

    Executable nodes depend on the executable nodes behind them: an ephemeral model is
    compiled into its children, so a child of one depends on what the ephemeral model reads;
    sources are dropped (nothing builds them).

        parser = ManifestParser(Path("target/manifest.json"))
        for wave in parser.compute_execution_waves():
            print(wave.wave_number, [node.name for node in wave.nodes])
    """

    def __init__(self, manifest_path: Path):
        manifest_path = Path(manifest_path)
        if not manifest_path.exists():
            raise FileNotFoundError(
                f"Manifest file not found: {manifest_path}. Create it with `dbt parse` in the "
                "project folder, or pass the path of an existing manifest.json")
        self._manifest_path = manifest_path
        self._manifest_data: dict[str, Any] = json.loads(manifest_path.read_bytes())
        self._all_nodes: dict[str, DbtNode] = {
            **{uid: create_dbt_node_from_manifest_data(uid, data)
               for uid, data in (self._manifest_data.get("nodes") or {}).items()},
            **{uid: create_dbt_source_node_from_manifest_data(uid, data)
               for uid, data in (self._manifest_data.get("sources") or {}).items()},
        }
        self._nodes: dict[str, DbtNode] | None = None
        self._test_nodes: dict[str, DbtNode] | None = None

    @property
    def all_nodes(self) -> dict[str, DbtNode]:
        """Every node of the manifest, sources and ephemeral models included, as written."""
        return self._all_nodes

    @property
    def adapter_type(self) -> str | None:
        """The manifest's database adapter (`"postgres"`, `"duckdb"`), if it says."""
        return (self._manifest_data.get("metadata") or {}).get("adapter_type")

    @property
    def project_name(self) -> str | None:
        """The dbt project's name, if the manifest says."""
        return (self._manifest_data.get("metadata") or {}).get("project_name")

    def _executable_dependencies(self, node: DbtNode) -> tuple[str, ...]:
        """The executable nodes `node` reads, looking through ephemeral models; unknown ids,
        sources, tests and the like are left out."""
        found: list[str] = []
        seen: set[str] = set()
        pending = list(reversed(node.depends_on))
        while pending:
            dep_id = pending.pop()
            dep = self._all_nodes.get(dep_id)
            if dep_id in seen or dep is None:
                continue
            seen.add(dep_id)
            if dep.materialization == "ephemeral":
                pending.extend(reversed(dep.depends_on))
            elif dep.is_executable:
                found.append(dep_id)
        return tuple(found)

    def _resolved(self, keep: Callable[[DbtNode], bool]) -> dict[str, DbtNode]:
        """The nodes `keep` accepts, each depending on executable nodes only."""
        return {uid: replace(node, depends_on=self._executable_dependencies(node))
                for uid, node in self._all_nodes.items() if keep(node)}

    def get_executable_nodes(self) -> dict[str, DbtNode]:
        """The nodes that build something (no sources, tests or ephemeral models), by id, each
        depending on executable nodes only. Computed once; later calls return the same dict."""
        if self._nodes is None:
            self._nodes = self._resolved(lambda node: node.is_executable)
        return self._nodes

    def get_node_dependencies(self, node_id: str) -> list[str]:
        """The executable nodes `node_id` depends on; KeyError if it is not executable."""
        nodes = self.get_executable_nodes()
        if node_id not in nodes:
            raise KeyError(f"Node not found: {node_id}")
        return list(nodes[node_id].depends_on)

    def get_test_nodes(self) -> dict[str, DbtNode]:
        """The test and unit-test nodes, by id, each depending on the executable nodes it
        checks (through ephemeral models). Computed once."""
        if self._test_nodes is None:
            self._test_nodes = self._resolved(lambda node: node.resource_type in _TEST_TYPES)
        return self._test_nodes

    def filter_nodes(self, selected_node_ids: set[str] | None = None) -> dict[str, DbtNode]:
        """The executable nodes whose ids are in `selected_node_ids` (all of them for None)."""
        nodes = self.get_executable_nodes()
        if selected_node_ids is None:
            return nodes
        return {uid: node for uid, node in nodes.items() if uid in selected_node_ids}

    def filter_test_nodes(
        self,
        selected_node_ids: set[str] | None = None,
        executable_node_ids: set[str] | None = None,
    ) -> dict[str, DbtNode]:
        """The test nodes in `selected_node_ids` (None: all) whose every dependency is in
        `executable_node_ids` (None: no such condition), so a relationship test is left out
        when one of its models is not built."""
        return {
            uid: node for uid, node in self.get_test_nodes().items()
            if (selected_node_ids is None or uid in selected_node_ids)
            and (executable_node_ids is None
                 or all(dep in executable_node_ids for dep in node.depends_on))
        }

    def get_macro_paths(self) -> dict[str, str | None]:
        """Each macro's unique_id -> its `original_file_path` (None for a macro without one)."""
        return {macro_id: data.get("original_file_path")
                for macro_id, data in (self._manifest_data.get("macros") or {}).items()}

    def compute_execution_waves(
        self, nodes: dict[str, DbtNode] | None = None
    ) -> list[ExecutionWave]:
        """`nodes` (default: every executable node) in waves, by Kahn's algorithm: wave 0
        holds the nodes depending on none of `nodes`, wave n those whose dependencies are
        all in waves before n. Each wave keeps the order of `nodes`. Dependencies outside
        `nodes` are taken as met. ValueError if the dependencies form a cycle."""
        if nodes is None:
            nodes = self.get_executable_nodes()
        position = {uid: index for index, uid in enumerate(nodes)}
        children: dict[str, list[str]] = {uid: [] for uid in nodes}
        unmet: dict[str, int] = {}
        for uid, node in nodes.items():
            parents = set(node.depends_on) & position.keys()
            unmet[uid] = len(parents)
            for parent in parents:
                children[parent].append(uid)

        waves: list[ExecutionWave] = []
        ready = [uid for uid in nodes if unmet[uid] == 0]
        while ready:
            waves.append(ExecutionWave(len(waves), [nodes[uid] for uid in ready]))
            released = []
            for uid in ready:
                for child in children[uid]:
                    unmet[child] -= 1
                    if unmet[child] == 0:
                        released.append(child)
            ready = sorted(released, key=position.__getitem__)

        placed = sum(len(wave.nodes) for wave in waves)
        if placed != len(nodes):
            stuck = sorted(uid for uid, count in unmet.items() if count)
            raise ValueError(
                f"Dependency graph contains cycles. Processed {placed} of {len(nodes)} nodes; "
                f"these are in or behind a cycle: {', '.join(stuck[:10])}"
                f"{' ...' if len(stuck) > 10 else ''}. Check their ref()s and depends_on")
        return waves


class DbtLsError(Exception):
    """`dbt ls` failed while resolving a selector (a bad selector, project or profile)."""


def _forward_warnings(event: EventMsg) -> None:
    """dbt callback: log dbt's warnings and errors, which `--log-level none` hides."""
    level = _FORWARDED_LEVELS.get(event.info.level)
    message = str(event.info.msg or "").strip()
    if level is not None and message:
        logger.log(level, "dbt ls: %s", mask_known(message))


def resolve_selection(
    project_dir: Path,
    profiles_dir: Path,
    select: str | None = None,
    exclude: str | None = None,
    target_path: Path | None = None,
    target: str | None = None,
    log_level_file: str = "none",
) -> set[str]:
    """The unique_ids of the nodes `select` and `exclude` pick, of any resource type.

    Runs `dbt ls` in this process, so every selector dbt knows works: graph operators
    (`+orders`), `tag:`, `path:`, wildcards, indirect selection. dbt's console output is
    silenced (its warnings and errors go to this module's logger); `log_level_file` is the
    level for dbt.log (`"none"`: no dbt.log). Raises DbtLsError when dbt ls fails.

        resolve_selection(Path("shop"), Path("~/.dbt").expanduser(), select="+orders")
    """
    args = ["ls", "--resource-type", "all", "--output", "json",
            "--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir),
            "--log-level", "none", "--log-level-file", log_level_file]
    options = {"--select": select, "--exclude": exclude, "--target-path": target_path,
               "--target": target}
    for flag, value in options.items():
        if value is not None:
            args += [flag, str(value)]

    from prefect_dbt.runner import dbt_session

    with dbt_session():
        result = dbtRunner(callbacks=[_forward_warnings]).invoke(args)
    if not result.success:
        rerun = " ".join(["dbt ls", *(f"{flag} {value}" for flag, value in options.items()
                                      if value is not None and flag != "--target-path")])
        detail = str(result.exception or "").strip() or "unknown error"
        raise DbtLsError(mask_known(
            f"dbt ls failed: {detail}\nCheck the selector and the project: "
            f"`{rerun}` in {project_dir} shows dbt's whole output"))
    return {(json.loads(row) if isinstance(row, str) else row)["unique_id"]
            for row in result.result or ()}
