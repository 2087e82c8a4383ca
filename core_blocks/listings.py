"""The rows `blocks types --json` and `blocks ls --json` print, also served by the web page."""

from __future__ import annotations

from typing import Any


def type_rows(with_fields: bool = False) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every block type of every plugin, then those only recorded by `blocks register`; and the
    plugins' load errors. with_fields adds each type's field names."""
    from core_blocks.registry import get_registry
    from core_blocks.store import get_store

    registry = get_registry()
    rows = []
    for slug, (cls, plugin) in sorted(registry.block_types.items()):
        row = {"slug": slug, "name": cls._block_type_name, "plugin": plugin,
               "source": registry.plugins[plugin].source,
               "capabilities": list(cls._capabilities), "description": cls._description}
        if with_fields:
            row["fields"] = list(cls.model_fields)
        rows.append(row)
    for recorded in get_store().list_types():
        if recorded.slug not in registry.block_types:
            row = {"slug": recorded.slug, "name": recorded.name, "plugin": None,
                   "source": f"recorded by blocks register ({recorded.package})",
                   "capabilities": recorded.capabilities, "description": recorded.description}
            if with_fields:
                row["fields"] = list(recorded.schema.get("properties", {}))
            rows.append(row)
    return rows, registry.errors


def block_row(row: Any) -> dict[str, Any]:
    """One saved block (a store DocumentRow) as `blocks ls --json` lists it."""
    return {"type": row.type_slug, "name": row.name, "id": row.id, "updated": row.updated,
            "version": row.version, "anonymous": row.anonymous}
