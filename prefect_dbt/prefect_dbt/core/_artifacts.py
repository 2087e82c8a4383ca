"""What the dbt orchestrator leaves behind: a markdown summary of a build, dbt's
run_results.json, and assets (the tables a build writes, with their upstream lineage).

Prefect's module of the same name returns `prefect.assets.Asset`; ours returns the `Asset`
below, frozen and with the same attribute names (`key`, `properties.name`, `.description`,
`.url`, `.owners`), so code reading them runs unchanged. Nothing here imports dbt or prefect.

    >>> create_run_results_dict({"model.shop.orders": {"status": "cached"}}, 0.5
    ...                         )["results"][0]["status"]
    'success'
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core_blocks.secret_values import mask_known
from prefect_dbt.utilities import (
    MAX_ASSET_KEY_LENGTH,
    RESTRICTED_ASSET_CHARACTERS,
    format_asset_name,
    format_resource_id,
)

if TYPE_CHECKING:
    from prefect_dbt.core._manifest import DbtNode

MAX_ASSET_DESCRIPTION_LENGTH = 2500  # Prefect's limit, so descriptions made here fit there

# dbt's NodeType values. NodeType is a str enum, so `NodeType.Model in ASSET_NODE_TYPES` holds
# and a node's resource_type matches whether it is the enum or its text; dbt is not imported.
ASSET_NODE_TYPES = frozenset({"model", "seed", "snapshot"})  # they write a database object
_UPSTREAM_ASSET_TYPES = ASSET_NODE_TYPES | {"source"}  # what an asset's lineage may name

_SUCCESS = ("success", "cached")
_DBT_STATUS = {"cached": "success"}  # a cached node was built earlier: a success to dbt
_URI = re.compile(r"[a-z][a-z0-9+.-]*://.+")
_RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"


# -- assets -------------------------------------------------------------------------------------


class AssetProperties(BaseModel):
    """What an asset shows besides its key; fields left unset stay out of `model_dump`."""

    model_config = ConfigDict(frozen=True)

    name: str | None = Field(default=None, description="Display name of the asset")
    url: str | None = Field(default=None, description="Where to look at the asset")
    description: str | None = Field(default=None, max_length=MAX_ASSET_DESCRIPTION_LENGTH,
                                    description="Markdown describing the asset")
    owners: list[str] | None = Field(default=None, description="Who owns the asset")


class Asset(BaseModel):
    """A piece of data a run writes or reads, named by a URI-like key such as
    `postgres://analytics/public/orders`; equal keys are the same asset.

        >>> Asset(key="duckdb://shop/main/orders", properties=AssetProperties(name="orders"))
        Asset(key='duckdb://shop/main/orders')
    """

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="URI-like name: a lower-case scheme, then '://' and a path")
    properties: AssetProperties | None = Field(
        default=None, description="Display name, description, url and owners")

    @field_validator("key")
    @classmethod
    def _valid_key(cls, key: str) -> str:
        bad = sorted({repr(c) for c in RESTRICTED_ASSET_CHARACTERS if c in key})
        if bad:
            raise ValueError(f"Asset key {key!r} holds {', '.join(bad)}; remove them "
                             "(prefect_dbt.utilities.format_resource_id does)")
        if len(key) > MAX_ASSET_KEY_LENGTH:
            raise ValueError(f"Asset key is {len(key)} characters long; shorten it to "
                             f"{MAX_ASSET_KEY_LENGTH}")
        if not _URI.fullmatch(key):
            raise ValueError(f"Asset key {key!r} is not URI-like; write it as "
                             "'<lower-case scheme>://<path>', e.g. 'postgres://db/schema/table'")
        return key

    def __repr__(self) -> str:
        return f"Asset(key={self.key!r})"

    def __hash__(self) -> int:
        return hash(self.key)


def create_asset_for_node(node: DbtNode, adapter_type: str, description_suffix: str = ""
                          ) -> Asset:
    """The asset a node writes: keyed by adapter and relation, named by the relation, with
    the node's description (plus `description_suffix`, such as its compiled SQL) and the
    owner from its `meta.owner`.

    A description over MAX_ASSET_DESCRIPTION_LENGTH drops the suffix, then is cut. Raises
    ValueError for a node with no relation_name (ephemeral models, tests): it writes no table.
    """
    if not node.relation_name:
        raise ValueError(f"Node {node.unique_id} has no relation_name: it writes no database "
                         "object, so it has no asset. Create assets for models, seeds and "
                         "snapshots that are not ephemeral.")
    base = node.description or ""
    description = base + description_suffix
    if len(description) > MAX_ASSET_DESCRIPTION_LENGTH:
        description = base[:MAX_ASSET_DESCRIPTION_LENGTH]
    owner = (node.config.get("meta") or {}).get("owner")
    properties: dict[str, Any] = {"name": format_asset_name(node.relation_name)}
    if description:
        properties["description"] = description
    if isinstance(owner, str) and owner:
        properties["owners"] = [owner]
    return Asset(key=format_resource_id(adapter_type, node.relation_name),
                 properties=AssetProperties(**properties))


def get_upstream_assets_for_node(node: DbtNode, all_nodes: dict[str, DbtNode],
                                 adapter_type: str) -> list[Asset]:
    """The assets `node` reads: the models, seeds, snapshots and sources it depends on that
    have a relation, seen through ephemeral models to what those read.

    `all_nodes` holds every node of the manifest, sources included; the node's own entry
    there supplies the dependencies that dependency resolution removed from `node` (sources).
    """
    start = dict.fromkeys(node.depends_on)
    original = all_nodes.get(node.unique_id)
    if original is not None:
        start.update(dict.fromkeys(original.depends_on))
    found: list[DbtNode] = []
    seen: set[str] = set()
    pending = list(reversed(start))
    while pending:
        dep_id = pending.pop()
        dep = all_nodes.get(dep_id)
        if dep_id in seen or dep is None:
            continue
        seen.add(dep_id)
        if dep.materialization == "ephemeral":
            pending.extend(reversed(dep.depends_on))
        elif dep.resource_type in _UPSTREAM_ASSET_TYPES and dep.relation_name:
            found.append(dep)
    return [Asset(key=format_resource_id(adapter_type, dep.relation_name),
                  properties=AssetProperties(name=dep.name)) for dep in found]


def get_compiled_code_for_node(node: DbtNode, project_dir: Path, target_path: Path,
                               project_name: str) -> str:
    """The node's compiled SQL as a markdown section to append to its asset's description,
    or "" when there is none.

    The manifest's `compiled_code` comes first; else the file `dbt compile` wrote,
    `<project_dir>/<target_path>/compiled/<project_name>/<original_file_path>`. SQL too long
    for an asset description is replaced by a note saying so.
    """
    code = node.compiled_code
    if not code and node.original_file_path:
        path = Path(project_dir, target_path, "compiled", project_name,
                    node.original_file_path)
        if path.is_file():
            code = path.read_text()
    if not code:
        return ""
    section = f"\n### Compiled code\n```sql\n{code.strip()}\n```"
    if len(section) > MAX_ASSET_DESCRIPTION_LENGTH:
        section = ("\n### Compiled code\nCompiled code was omitted because it exceeded the "
                   f"maximum asset description length of {MAX_ASSET_DESCRIPTION_LENGTH} "
                   "characters.")
    return section


# -- summary ------------------------------------------------------------------------------------


def create_summary_markdown(results: dict[str, Any]) -> str:
    """A markdown summary of `run_build()` results (node id -> result with a `status` of
    success, cached, error or skipped): a count table, then the failed nodes with their
    messages, the skipped ones with their reasons, and the ones that succeeded.

    Cached nodes count as successes. Secret values this process knows are masked.

        >>> create_summary_markdown({"model.shop.orders": {"status": "success"}}
        ...                         ).splitlines()[4]
        '| 1 | 0 | 0 | 1 |'
    """
    errors, skipped, successes = [], [], []
    for node_id, result in results.items():
        status = result.get("status", "unknown")
        if status == "error":
            errors.append((node_id, result))
        elif status == "skipped":
            skipped.append((node_id, result))
        elif status in _SUCCESS:
            successes.append(node_id)

    lines = ["## dbt build Task Summary", "",
             "| Successes | Errors | Skipped | Total |",
             "| :-------: | :----: | :-----: | :---: |",
             f"| {len(successes)} | {len(errors)} | {len(skipped)} | {len(results)} |"]
    if errors:
        lines += ["", "### Unsuccessful Nodes", ""]
        for node_id, result in errors:
            kind = node_id.split(".", 1)[0] if "." in node_id else "unknown"
            quoted = "\n".join(f"> {line}" for line in _error_message(result).splitlines())
            lines += [f"**{_short_name(node_id)}**", "", f"Type: {kind}", "", "Message:", "",
                      quoted or "> Unknown error", ""]
    if skipped:
        lines += ["", "### Skipped Nodes", ""]
        lines += [f"* {_short_name(node_id)} ({result.get('reason', 'unknown reason')})"
                  for node_id, result in skipped]
        lines.append("")
    if successes:
        lines += ["", "### Successful Nodes", ""]
        lines += [f"* {_short_name(node_id)}" for node_id in successes]
        lines.append("")
    return mask_known("\n".join(lines) + "\n")


def _short_name(node_id: str) -> str:
    return node_id.rsplit(".", 1)[-1]


def _error_message(result: dict[str, Any], missing: str = "Unknown error") -> str:
    error = result.get("error") or {}
    if isinstance(error, dict):
        return str(error.get("message") or missing)
    return str(error)


# -- run_results.json ---------------------------------------------------------------------------


def create_run_results_dict(results: dict[str, Any], elapsed_time: float) -> dict[str, Any]:
    """`run_build()` results in the shape of dbt's run_results.json (schema v6), for tools
    that read dbt's artifacts.

    Cached nodes are reported as successes; a node's `timing.started_at`/`completed_at`
    become its "execute" timing, its `execution_time` (or `duration_seconds`) its execution
    time. Error messages have the secret values this process knows masked.
    """
    return {
        "metadata": {"dbt_schema_version": _RUN_RESULTS_SCHEMA, "dbt_version": _dbt_version(),
                     "generated_at": datetime.now(timezone.utc).isoformat()},
        "results": [_run_result(node_id, result) for node_id, result in results.items()],
        "elapsed_time": elapsed_time,
        "args": {},
    }


def write_run_results_json(results: dict[str, Any], elapsed_time: float, target_dir: Path
                           ) -> Path:
    """Write create_run_results_dict's output to `<target_dir>/run_results.json` (the
    folder is created) and return that path."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / "run_results.json"
    write_whole(path, json.dumps(create_run_results_dict(results, elapsed_time),
                                 indent=2).encode())
    return path


def write_whole(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all: a temporary file beside it, renamed over
    it, so a crash mid-write never leaves half a file for the next run (or dbt) to read."""
    import os
    import threading

    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _run_result(node_id: str, result: dict[str, Any]) -> dict[str, Any]:
    status = result.get("status", "unknown")
    timing = result.get("timing") or {}
    started = timing.get("started_at")
    return {
        "unique_id": node_id,
        "status": _DBT_STATUS.get(status, status),
        "timing": ([{"name": "execute", "started_at": started,
                     "completed_at": timing.get("completed_at", "")}] if started else []),
        "thread_id": "orchestrator",
        "execution_time": timing.get("execution_time", timing.get("duration_seconds", 0.0)),
        "adapter_response": {},
        "message": mask_known(_error_message(result, "")) if status == "error" else "OK",
        "failures": None,
        "compiled": None,
        "compiled_code": None,
        "relation_name": None,
        "batch_results": None,
    }


def _dbt_version() -> str:
    """dbt-core's version, read from its installed metadata: importing dbt takes a second."""
    try:
        return metadata.version("dbt-core")
    except metadata.PackageNotFoundError:
        return "unknown"
