"""Run artifacts: the table of the named markdown texts and tables runs attach (see
core_blocks.runtime.artifacts), and every query on it. `data` is JSON, already redacted;
a run may have several, and a key may recur.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# Schema version -> statements (see core_blocks.store.migrations); never edit a released one.
MIGRATIONS: dict[int, list[str]] = {
    4: [
        """CREATE TABLE run_artifacts (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            flow_run_id TEXT,
            key TEXT NOT NULL,
            type TEXT NOT NULL,
            description TEXT,
            data TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX run_artifacts_run ON run_artifacts (run_id)",
        "CREATE INDEX run_artifacts_key ON run_artifacts (key, created)",
    ],
}

# What an artifact holds, in the order of the row tuples `insert` takes.
COLUMNS = "id, run_id, flow_run_id, key, type, description, data, created"
_NAMES = [c.strip() for c in COLUMNS.split(",")]
_INSERT = f"INSERT INTO run_artifacts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def insert(tx, rows: Sequence[tuple]) -> None:
    """Add artifact rows (COLUMNS order, data as JSON text) in the caller's transaction."""
    tx.executemany(_INSERT, rows)


def delete_of_runs(tx, run_ids: Sequence[str]) -> None:
    """Delete the artifacts of these runs in the caller's transaction."""
    tx.execute(f"DELETE FROM run_artifacts WHERE run_id IN ({', '.join('?' * len(run_ids))})",
               run_ids)


def list_artifacts(store, *, run_ids: Sequence[str] = (), key: str | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
    """Artifacts newest first; only those of these runs, or with this key, if given."""
    where, params = [], []
    if run_ids:
        where.append(f"run_id IN ({', '.join('?' * len(run_ids))})")
        params.extend(run_ids)
    if key:
        where.append("key = ?")
        params.append(key)
    sql = f"SELECT {COLUMNS} FROM run_artifacts"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created DESC LIMIT ?"
    return [_artifact(row) for row in store.query(sql, (*params, limit))]


def with_id_prefix(store, prefix: str, limit: int = 2) -> list[dict[str, Any]]:
    """Up to `limit` artifacts whose id starts with `prefix`."""
    return [_artifact(row) for row in store.query(
        f"SELECT {COLUMNS} FROM run_artifacts WHERE id LIKE ? LIMIT ?", (prefix + "%", limit))]


def newest_with_key(store, key: str) -> dict[str, Any] | None:
    """The newest artifact with this key, if any."""
    rows = store.query(f"SELECT {COLUMNS} FROM run_artifacts WHERE key = ? "
                       "ORDER BY created DESC LIMIT 1", (key,))
    return _artifact(rows[0]) if rows else None


def _artifact(row: tuple) -> dict[str, Any]:
    artifact = dict(zip(_NAMES, row, strict=True))
    artifact["data"] = json.loads(artifact["data"])
    return artifact
