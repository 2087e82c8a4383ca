"""Run artifacts: a named markdown text or table that a task or flow attaches to its run.

They are stored with the run history (table `run_artifacts`), written by the same background
writer as run states, and pass through the run parameters' redaction: cells under
secret-looking column names and secret-typed values are hidden, and every secret value the
run's tree received is masked in text. Outside a run there is nothing to attach to, so
creating one raises ArtifactError.

    @task
    def report(rows):
        create_table_artifact("daily-orders", rows)
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from core_blocks.errors import ArtifactError

_KEY = re.compile(r"[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?")
MARKDOWN = "markdown"
TABLE = "table"



def create_markdown_artifact(key: str, markdown: str, description: str | None = None) -> str:
    """Attach a markdown text to the current run; returns the artifact's id.

    `key` names it (lower-case letters, digits and dashes): `blocks artifacts show KEY`
    shows the newest artifact with that key.
    """
    if not isinstance(markdown, str):
        raise ArtifactError(f"Artifact {key!r}: markdown must be a str, not "
                            f"{type(markdown).__name__}.")
    return _attach(key, MARKDOWN, markdown, description)


def create_table_artifact(key: str, rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
                          description: str | None = None) -> str:
    """Attach a table to the current run; returns the artifact's id.

    `rows` is a list of dicts (column name -> value; the columns are the union of their keys,
    in first-seen order) or a list of lists whose first item holds the column names.
    """
    return _attach(key, TABLE, _table(key, rows), description)


def _table(key: str, rows: Any) -> dict[str, Any]:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise ArtifactError(f"Artifact {key!r}: rows must be a list of dicts, or a list of "
                            f"lists with the column names first; got {type(rows).__name__}.")
    rows = list(rows)
    if all(isinstance(r, Mapping) for r in rows):
        columns = list(dict.fromkeys(str(c) for r in rows for c in r))
        return {"columns": columns,
                "rows": [[r.get(c) for c in columns] for r in ({str(k): v for k, v in r.items()}
                                                               for r in rows)]}
    if rows and all(isinstance(r, Sequence) and not isinstance(r, (str, bytes)) for r in rows):
        columns = [str(c) for c in rows[0]]
        if any(len(r) != len(columns) for r in rows[1:]):
            raise ArtifactError(f"Artifact {key!r}: every row needs {len(columns)} values, one "
                                "per column name in the first row.")
        return {"columns": columns, "rows": [list(r) for r in rows[1:]]}
    raise ArtifactError(f"Artifact {key!r}: rows must be all dicts, or all lists with the "
                        "column names first.")


def _attach(key: str, kind: str, data: Any, description: str | None) -> str:
    from core_blocks.runtime.context import get_run_context
    from core_blocks.runtime.history import record_artifact

    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ArtifactError(f"Artifact key {key!r} is not valid: use 1-100 lower-case letters, "
                            "digits and dashes, starting and ending with a letter or digit.")
    context = get_run_context()
    if context is None:
        raise ArtifactError(f"Artifact {key!r} was created outside a flow or task run: "
                            "artifacts belong to a run. Create it inside a @task or @flow.")
    run = context.run
    data = _redacted(kind, data, run.secrets)
    description = run.secrets.mask(description)
    artifact = {"id": uuid.uuid4().hex, "run_id": run.id, "flow_run_id": run.flow_run_id,
                "key": key, "type": kind, "description": description,
                "data": json.dumps(data, default=str), "created": time.time()}
    record_artifact(run, artifact)
    return artifact["id"]


def _redacted(kind: str, data: Any, secrets: Any) -> Any:
    """What may be stored: the redaction of run parameters, cell by cell, then masking."""
    from core_blocks.runtime.redaction import redact_parameters

    if kind == MARKDOWN:
        return secrets.mask(data)
    found: set[str | bytes] = set()
    rows = [redact_parameters(dict(zip(data["columns"], row, strict=True)), found)
            for row in data["rows"]]
    secrets.add(found)  # hidden here: mask them in the run's error text too
    return {"columns": [secrets.mask(c) for c in data["columns"]],
            "rows": [[_mask(row[c], secrets) for c in data["columns"]] for row in rows]}


def _mask(value: Any, secrets: Any) -> Any:
    if isinstance(value, str):
        return secrets.mask(value)
    if isinstance(value, (dict, list)):
        return json.loads(secrets.mask(json.dumps(value, default=str)))
    return value


# -- reading (the CLI) ----------------------------------------------------------------------

def list_artifacts(store, *, run_ids: Sequence[str] = (), key: str | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
    """Stored artifacts, newest first; only those of these runs, or with this key, if given."""
    from core_blocks.runtime.history import flush
    from core_blocks.store import artifacts

    flush()
    return artifacts.list_artifacts(store, run_ids=run_ids, key=key, limit=limit)


def get_artifact(store, ref: str) -> dict[str, Any] | None:
    """One artifact by id (or a unique id prefix of 6+ characters), else the newest with key
    `ref`; None when neither matches."""
    from core_blocks.runtime.history import flush
    from core_blocks.store import artifacts

    flush()
    if len(ref) >= 6 and re.fullmatch(r"[0-9a-f]+", ref):
        found = artifacts.with_id_prefix(store, ref, limit=2)
        if len(found) > 1:
            raise LookupError(f"Artifact id prefix {ref!r} matches several artifacts; "
                              "give more of it.")
        if found:
            return found[0]
    return artifacts.newest_with_key(store, ref)
