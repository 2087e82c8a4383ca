"""DbtNode: one node of a dbt project as manifest.json describes it (model, seed, snapshot,
test, source), with the selector that runs exactly that node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_RUNNABLE = frozenset({"model", "seed", "snapshot"})


@dataclass(frozen=True)
class DbtNode:
    """A node of manifest.json: its id, name, type, what it depends on and how it is built.

        >>> DbtNode("model.shop.orders", "orders", "model",
        ...         original_file_path="models/orders.sql").dbt_selector
        'path:models/orders.sql'
    """

    unique_id: str
    name: str
    resource_type: str  # dbt's NodeType (a str enum) or its value
    depends_on: tuple[str, ...] = ()
    depends_on_macros: tuple[str, ...] = ()
    fqn: tuple[str, ...] = ()
    materialization: str | None = None
    relation_name: str | None = None
    original_file_path: str | None = None
    config: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    description: str | None = None
    compiled_code: str | None = None

    @classmethod
    def from_manifest(cls, unique_id: str, data: dict[str, Any]) -> DbtNode:
        """The node `unique_id` from its manifest.json entry (`nodes` or `sources`)."""
        config = data.get("config") or {}
        return cls(
            unique_id=unique_id, name=data.get("name") or unique_id.rsplit(".", 1)[-1],
            resource_type=data.get("resource_type") or unique_id.split(".", 1)[0],
            depends_on=tuple((data.get("depends_on") or {}).get("nodes") or ()),
            depends_on_macros=tuple((data.get("depends_on") or {}).get("macros") or ()),
            fqn=tuple(data.get("fqn") or ()), materialization=config.get("materialized"),
            relation_name=data.get("relation_name"),
            original_file_path=data.get("original_file_path"), config=dict(config),
            description=data.get("description") or None,
            compiled_code=data.get("compiled_code"))

    @property
    def is_executable(self) -> bool:
        """True for what `dbt run`/`seed`/`snapshot` builds: not tests, sources or
        ephemeral models (those have no database object of their own)."""
        return str(self.resource_type) in _RUNNABLE and self.materialization != "ephemeral"

    @property
    def dbt_selector(self) -> str:
        """A `--select` value naming this node alone: its file for models, seeds and
        snapshots (one node per file), else its dotted fqn, else its name."""
        if self.original_file_path and str(self.resource_type) in _RUNNABLE:
            return f"path:{self.original_file_path}"
        return ".".join(self.fqn) if self.fqn else self.name

    def __hash__(self) -> int:
        return hash(self.unique_id)
