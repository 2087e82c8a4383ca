"""Flow and task runs and their state transitions: the tables behind run history, and every
query on them (core_blocks.runtime.history records and reads runs through these).

Times are epoch seconds. A live run's writer refreshes its `heartbeat` on the store's clock;
a run not final whose heartbeat is older than its `heartbeat_timeout` has crashed, and reads
as Crashed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from core_blocks.runtime.states import FINAL_STATES, StateType
from core_blocks.store import artifacts
from core_blocks.store.database import Dialect, glob_to_like

# Schema version -> statements (see core_blocks.store.migrations); never edit a released one.
MIGRATIONS: dict[int, list[str]] = {
    2: [
        # DOUBLE PRECISION: PostgreSQL's REAL is 4 bytes, about 128 s at today's clock.
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            fn_name TEXT NOT NULL,
            flow_name TEXT,
            parent_id TEXT,
            flow_run_id TEXT,
            parameters TEXT NOT NULL,
            state TEXT NOT NULL,
            state_name TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            started DOUBLE PRECISION,
            ended DOUBLE PRECISION,
            error_type TEXT,
            error_message TEXT,
            traceback TEXT)""",
        "CREATE INDEX runs_created ON runs (created)",
        "CREATE INDEX runs_parent ON runs (parent_id)",
        """CREATE TABLE run_states (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            state TEXT NOT NULL,
            name TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            message TEXT,
            PRIMARY KEY (run_id, seq))""",
    ],
    3: [
        "ALTER TABLE runs ADD COLUMN heartbeat DOUBLE PRECISION",
        "ALTER TABLE runs ADD COLUMN heartbeat_timeout DOUBLE PRECISION",
        # Runs recorded before heartbeats existed: their last sign of life is their last time.
        "UPDATE runs SET heartbeat = COALESCE(ended, started, created), heartbeat_timeout = 30",
    ],
    5: [
        # Where a task ran when not in the flow's process: a Dask worker's address and host.
        "ALTER TABLE runs ADD COLUMN worker TEXT",
    ],
}

# What a record of a run holds, in the order of the row tuples `record` takes (the heartbeat
# is the store's clock at the write, then the heartbeat timeout).
RUN_COLUMNS = ("id, kind, name, fn_name, flow_name, parent_id, flow_run_id, parameters, state, "
               "state_name, attempts, created, started, ended, error_type, error_message, "
               "traceback, worker")
_READ_COLUMNS = f"{RUN_COLUMNS}, heartbeat"
_STATE_INSERT = (
    "INSERT INTO run_states (run_id, seq, state, name, at, message) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (run_id, seq) DO NOTHING"
)
_FINAL_VALUES = sorted(s.value for s in FINAL_STATES)
_FINAL_STATES = ", ".join(f"'{value}'" for value in _FINAL_VALUES)
_LIVE_STATES = ", ".join(f"'{s.value}'" for s in StateType if s not in FINAL_STATES)
CRASHED = StateType.CRASHED.value
_BATCH = 500  # run ids per statement: well under both databases' parameter limits


@cache
def _upsert(dialect_name: str) -> str:
    """The run row upsert; every write of a run is also a heartbeat, on the store's clock.

    A row that holds a final state is updated only by the same state again (the flow mirrors
    what its Dask workers recorded): a run's end is never replaced by a writer that comes
    later with another one, such as a worker whose sync task ran on after its flow ended the
    run Cancelled, or a process that outlived the Crashed that `blocks doctor --fix` recorded.
    """
    marks = ", ".join("?" * len(RUN_COLUMNS.split(",")))
    return (
        f"INSERT INTO runs ({RUN_COLUMNS}, heartbeat, heartbeat_timeout) VALUES "
        f"({marks}, {Dialect(dialect_name).now_epoch()}, ?) "
        "ON CONFLICT (id) DO UPDATE SET parameters = excluded.parameters, state = excluded.state, "
        "state_name = excluded.state_name, "
        "attempts = excluded.attempts, started = excluded.started, ended = excluded.ended, "
        "error_type = excluded.error_type, error_message = excluded.error_message, "
        "traceback = excluded.traceback, worker = COALESCE(excluded.worker, runs.worker), "
        "heartbeat = excluded.heartbeat, "
        "heartbeat_timeout = excluded.heartbeat_timeout "
        f"WHERE runs.state NOT IN ({_FINAL_STATES}) OR runs.state = excluded.state"
    )


# -- recording (the history writer) -----------------------------------------------------------

def record(store, runs: Sequence[tuple], states: Sequence[tuple],
           artifact_rows: Sequence[tuple] = ()) -> None:
    """Write a batch in one transaction: run rows (RUN_COLUMNS, then the heartbeat timeout)
    inserted or updated, state rows (run_id, seq, state, name, at, message) added once each,
    and artifact rows (see core_blocks.store.artifacts).

    A run whose row already ended in another state keeps it (see _upsert), and its states
    here are left out, so its history ends at its end too. The rows go first: on PostgreSQL
    the upsert locks each run's row, applied or not, so a concurrent writer of the same run
    waits and the check reads the row as it stays."""
    with store.transaction() as tx:
        tx.executemany(_upsert(store.dialect.name), runs)
        ended = _ended_otherwise(tx, {row[0]: row[8] for row in runs})
        tx.executemany(_STATE_INSERT, [s for s in states if s[0] not in ended] if ended
                       else states)
        artifacts.insert(tx, artifact_rows)


def _ended_otherwise(tx, state_of: dict[str, str]) -> set[str]:
    """The runs whose row, after this batch's upsert, holds another state than the batch
    wrote: they had already ended, and the upsert left them alone. One query per _BATCH runs,
    not a check per state row (that made each batch of the history writer 40% slower)."""
    ids = list(state_of)
    ended = set()
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start:start + _BATCH]
        for run_id, state in tx.execute(
                f"SELECT id, state FROM runs WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk).fetchall():
            if state != state_of[run_id]:
                ended.add(run_id)
    return ended


def beat(store, run_ids: Sequence[str], timeout: float) -> None:
    """Refresh the heartbeat of these runs on the store's clock, with a new timeout."""
    ordered = sorted(run_ids)
    with store.transaction() as tx:
        for start in range(0, len(ordered), _BATCH):
            chunk = ordered[start:start + _BATCH]
            tx.execute(
                f"UPDATE runs SET heartbeat = {store.dialect.now_epoch()}, "
                f"heartbeat_timeout = ? WHERE id IN ({', '.join('?' * len(chunk))})",
                (timeout, *chunk))


# -- reading (the CLI and the web page) -------------------------------------------------------

def _lapsed(dialect: Dialect) -> str:
    """SQL: the run is not final and its heartbeat is older than its timeout (store clock)."""
    return (f"(state IN ({_LIVE_STATES}) AND heartbeat + heartbeat_timeout "
            f"< {dialect.now_epoch()})")


def prunable_condition(dialect: Dialect) -> str:
    """SQL: the run is over, finished or lapsed."""
    return f"(state IN ({_FINAL_STATES}) OR {_lapsed(dialect)})"


def _runs_select(dialect: Dialect) -> str:
    """The runs as readers see them: a run whose heartbeat lapsed reads as Crashed."""
    lapsed = _lapsed(dialect)
    columns = _READ_COLUMNS.replace(
        "state, state_name,",
        f"CASE WHEN {lapsed} THEN '{CRASHED}' ELSE state END AS state, "
        f"CASE WHEN {lapsed} THEN '{CRASHED}' ELSE state_name END AS state_name,")
    return f"SELECT {columns} FROM runs"


def list_runs(store, *, flow: str | None = None, state: str | None = None,
              kind: str | None = None, limit: int = 20, offset: int = 0,
              name: str | None = None) -> list[dict[str, Any]]:
    """Runs newest first, filtered on each given value; name is a glob on the run's name."""
    clause, params = _runs_where(flow, state, kind, name)
    sql = (f"SELECT {_READ_COLUMNS} FROM ({_runs_select(store.dialect)}) AS r{clause}"
           " ORDER BY created DESC LIMIT ? OFFSET ?")
    return [_run_dict(row) for row in store.query(sql, (*params, limit, offset))]


def count_runs(store, *, flow: str | None = None, state: str | None = None,
               kind: str | None = None, name: str | None = None) -> int:
    """How many runs list_runs would return without a limit."""
    clause, params = _runs_where(flow, state, kind, name)
    return store.query(f"SELECT COUNT(*) FROM ({_runs_select(store.dialect)}) AS r{clause}",
                       params)[0][0]


def _runs_where(flow, state, kind, name) -> tuple[str, list[Any]]:
    where, params = [], []
    for column, value in (("flow_name", flow), ("state", state), ("kind", kind)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if name:
        where.append("LOWER(name) LIKE ? ESCAPE '!'")
        params.append(glob_to_like(name))
    return (" WHERE " + " AND ".join(where) if where else ""), params


def runs_with_id_prefix(store, prefix: str, limit: int = 2) -> list[dict[str, Any]]:
    """Up to `limit` runs whose id starts with `prefix` (lower-cased), oldest first."""
    return [_run_dict(row) for row in store.query(
        f"{_runs_select(store.dialect)} WHERE id LIKE ? ORDER BY created LIMIT ?",
        (prefix.lower() + "%", limit))]


def run_by_id(store, run_id: str) -> dict[str, Any] | None:
    """The run with exactly this id, or None."""
    rows = store.query(f"{_runs_select(store.dialect)} WHERE id = ?", (run_id,))
    return _run_dict(rows[0]) if rows else None


def child_runs(store, run_id: str) -> list[dict[str, Any]]:
    """The runs called in this one, oldest first."""
    return [_run_dict(row) for row in store.query(
        f"{_runs_select(store.dialect)} WHERE parent_id = ? ORDER BY created", (run_id,))]


def run_states(store, run_id: str) -> list[dict[str, Any]]:
    """The states a run went through, in order."""
    return [{"state": s, "name": n, "at": at, "message": m} for s, n, at, m in store.query(
        "SELECT state, name, at, message FROM run_states WHERE run_id = ? ORDER BY seq",
        (run_id,))]


def _run_dict(row: tuple) -> dict[str, Any]:
    names = [c.strip() for c in _READ_COLUMNS.split(",")]
    run = dict(zip(names, row, strict=True))
    run["parameters"] = json.loads(run["parameters"])
    started, ended = run["started"], run["ended"]
    run["duration"] = (ended - started) if started is not None and ended is not None else None
    return run


# -- crashed runs (doctor) --------------------------------------------------------------------

def lapsed_runs(store) -> list[dict[str, Any]]:
    """Runs not final whose heartbeat lapsed, oldest first."""
    return [{"id": i, "name": n, "state": s, "heartbeat": h} for i, n, s, h in store.query(
        f"SELECT id, name, state, heartbeat FROM runs WHERE {_lapsed(store.dialect)} "
        "ORDER BY created")]


def mark_crashed(store, message: str) -> list[str]:
    """Record Crashed as the final state of every lapsed run, with `message` formatted with
    its `timeout` (seconds); their ids."""
    with store.transaction() as tx:
        # Ended at the last sign of life; a run that beats again in between is left alone.
        rows = tx.execute(
            f"UPDATE runs SET state = '{CRASHED}', state_name = '{CRASHED}', "
            f"ended = COALESCE(ended, heartbeat) WHERE {_lapsed(store.dialect)} "
            "RETURNING id, heartbeat, heartbeat_timeout").fetchall()
        for run_id, heartbeat, timeout in rows:
            seq = tx.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM run_states "
                             "WHERE run_id = ?", (run_id,)).fetchone()[0]
            tx.execute(_STATE_INSERT, (run_id, seq, CRASHED, CRASHED, heartbeat,
                                       message.format(timeout=timeout)))
    return [r[0] for r in rows]


# -- retention --------------------------------------------------------------------------------

def created_of_newest(store, nth: int) -> float | None:
    """When the nth newest run (1: the newest) was created; None with fewer runs."""
    rows = store.query("SELECT created FROM runs ORDER BY created DESC LIMIT 1 OFFSET ?",
                       (nth - 1,))
    return rows[0][0] if rows else None


def prune(store, created_before: float) -> int:
    """Delete the runs over (finished or lapsed) created before this time, with their states
    and artifacts, a batch per transaction; how many runs went."""
    condition = prunable_condition(store.dialect)
    removed = 0
    while True:
        ids = [r[0] for r in store.query(
            f"SELECT id FROM runs WHERE created < ? AND {condition} ORDER BY created LIMIT ?",
            (created_before, _BATCH))]
        if not ids:
            return removed
        marks = ", ".join("?" * len(ids))
        with store.transaction() as tx:
            tx.execute(f"DELETE FROM run_states WHERE run_id IN ({marks})", ids)
            artifacts.delete_of_runs(tx, ids)
            tx.execute(f"DELETE FROM runs WHERE id IN ({marks})", ids)
        removed += len(ids)
