"""Run history: every flow and task run and its state transitions, written to the store.

Runs hand their records to one background writer per process, which batches them into a
transaction at a time, so recording costs a task a queue append rather than a commit.
The same writer keeps a heartbeat for the runs of this process that are not final: a run
whose heartbeat lapsed (its process was killed) reads as Crashed.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from core_blocks.runtime.artifacts import INSERT as ARTIFACT_INSERT
from core_blocks.runtime.redaction import SecretValues
from core_blocks.runtime.states import FINAL_STATES, State, StateType

logger = logging.getLogger("core_blocks.runs")

HEARTBEAT_ENV = "CORE_BLOCKS_RUN_HEARTBEAT_SECONDS"
DEFAULT_HEARTBEAT_SECONDS = 10.0
LAPSE_BEATS = 3  # a run silent for this many intervals has crashed (one late beat is not enough)
_FINAL_VALUES = frozenset(s.value for s in FINAL_STATES)
PRUNE_INTERVAL = 300.0  # seconds between the writer's retention passes over one store
_BEAT_CHUNK = 500  # run ids per UPDATE: well under both databases' parameter limits
_bad_interval_warned: set[str] = set()


def heartbeat_seconds() -> float:
    """The heartbeat interval of live runs, from CORE_BLOCKS_RUN_HEARTBEAT_SECONDS (default 10)."""
    text = os.environ.get(HEARTBEAT_ENV)
    if not text:
        return DEFAULT_HEARTBEAT_SECONDS
    try:
        seconds = float(text)
        if not 0 < seconds < float("inf"):
            raise ValueError
    except ValueError:
        if text not in _bad_interval_warned:
            _bad_interval_warned.add(text)
            logger.warning("%s=%r is not a positive number of seconds; using %g.",
                           HEARTBEAT_ENV, text, DEFAULT_HEARTBEAT_SECONDS)
        return DEFAULT_HEARTBEAT_SECONDS
    return seconds


@dataclass(eq=False)
class Run:
    """A flow or task run: what hooks receive as `run` and what history records."""

    kind: str  # "flow" | "task"
    fn_name: str
    parameters: dict[str, Any]  # already redacted
    parent_id: str | None = None  # the innermost run this one was called in
    flow_name: str | None = None
    flow_run_id: str | None = None  # the flow run it belongs to (for a flow: its parent flow)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: float = field(default_factory=time.time)
    states: list[State] = field(default_factory=list)
    attempts: int = 0
    started: float | None = None
    ended: float | None = None
    store: Any = field(default=None, repr=False)
    error: tuple[str | None, str | None, str | None] = (None, None, None)  # type, text, trace
    # What to mask in error text: the secrets this run and its flow's runs received.
    secrets: SecretValues = field(default_factory=SecretValues, repr=False)

    @property
    def name(self) -> str:
        return f"{self.fn_name}-{self.id[:8]}"

    @property
    def state(self) -> State | None:
        return self.states[-1] if self.states else None

    @property
    def duration(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.time()) - self.started

    def set_state(self, state: State) -> State:
        if state.type is StateType.RUNNING and self.started is None:
            self.started = state.timestamp
        if state.is_final:
            self.ended = state.timestamp
            # Formatted now: re-raising later would add the caller's frames.
            self.error = self.secrets.masked_error(error_fields(state.error))
        self.states.append(state)
        _recorder.record(self, state)
        return state


def error_fields(error: BaseException | None) -> tuple[str | None, str | None, str | None]:
    """(type, message, traceback) of a run's error, for history."""
    if error is None:
        return None, None, None
    kind = type(error).__qualname__
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return kind, str(error), text


def _run_upsert(dialect) -> str:
    """The run row upsert; every write of a run is also a heartbeat, on the store's clock."""
    return (
        "INSERT INTO runs (id, kind, name, fn_name, flow_name, parent_id, flow_run_id, "
        "parameters, state, state_name, attempts, created, started, ended, error_type, "
        "error_message, traceback, heartbeat, heartbeat_timeout) VALUES "
        f"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {dialect.now_epoch()}, ?) "
        "ON CONFLICT (id) DO UPDATE SET parameters = excluded.parameters, state = excluded.state, "
        "state_name = excluded.state_name, "
        "attempts = excluded.attempts, started = excluded.started, ended = excluded.ended, "
        "error_type = excluded.error_type, error_message = excluded.error_message, "
        "traceback = excluded.traceback, heartbeat = excluded.heartbeat, "
        "heartbeat_timeout = excluded.heartbeat_timeout"
    )


_STATE_INSERT = (
    "INSERT INTO run_states (run_id, seq, state, name, at, message) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (run_id, seq) DO NOTHING"
)


class _Recorder:
    """One writer thread per process; records reach the store in batches, and the runs not
    yet final get a heartbeat every heartbeat_seconds()."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._failed_stores: set[tuple[str, str]] = set()
        # Only the writer thread touches these: store id -> (store, ids of its live runs).
        self._live: dict[int, tuple[Any, set[str]]] = {}
        self._upserts: dict[str, str] = {}
        self._next_prune: dict[int, float] = {}  # store id -> monotonic time of the next prune

    def record(self, run: Run, state: State) -> None:
        if run.store is None:
            return
        self._queue.put((run, len(run.states) - 1, state))
        if self._thread is None:
            self._start()

    def record_artifact(self, run: Run, artifact: dict[str, Any]) -> None:
        if run.store is None:
            return
        self._queue.put((run, None, artifact))  # seq None: an artifact, not a state
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(target=self._loop, name="core-blocks-runs", daemon=True)
                thread.start()
                self._thread = thread

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything recorded so far is in the store."""
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def _loop(self) -> None:
        next_beat = time.monotonic()
        while True:
            # Idle with no live run: sleep until a record comes; else wake for the next beat.
            wait = max(next_beat - time.monotonic(), 0.0) if self._live else None
            try:
                items = [self._queue.get(timeout=wait)]
            except queue.Empty:
                items = []
            while len(items) < 5000:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            events = [i for i in items if isinstance(i, threading.Event)]
            records = [i for i in items if not isinstance(i, threading.Event)]
            if records:
                self._write(records)
            # Checked after every batch too: a steady stream of records must not starve it.
            if self._live and time.monotonic() >= next_beat:
                self._beat()
                next_beat = time.monotonic() + heartbeat_seconds()
            for event in events:
                event.set()

    def _write(self, items: list[tuple[Run, int | None, Any]]) -> None:
        by_store: dict[int, tuple[Any, dict[str, Run], list[tuple], set[str]]] = {}
        artifacts: dict[int, list[tuple]] = {}
        for run, seq, state in items:
            key = id(run.store)
            entry = by_store.get(key)
            if entry is None:
                live = self._live.get(key)
                if live is None:
                    live = self._live[key] = (run.store, set())
                entry = by_store[key] = (run.store, {}, [], live[1])
            if seq is None:  # written in the same transaction as the states before it
                artifacts.setdefault(key, []).append(_artifact_row(state))
                continue
            _, runs, states, live_ids = entry
            runs[run.id] = run
            value = state.type.value
            states.append((run.id, seq, value, state.name, state.timestamp,
                           state.message or None))
            if value in _FINAL_VALUES:  # strings: hashing the enum costs a Python call
                live_ids.discard(run.id)
            else:
                live_ids.add(run.id)
        timeout = LAPSE_BEATS * heartbeat_seconds()
        for key, (store, runs, states, _) in by_store.items():
            if not self._live[key][1]:
                del self._live[key]
            try:
                with store.transaction() as tx:
                    tx.executemany(self._upsert(store),
                                   [(*_run_row(r), timeout) for r in runs.values()])
                    tx.executemany(_STATE_INSERT, states)
                    tx.executemany(ARTIFACT_INSERT, artifacts.get(key, []))
            except Exception as exc:  # history must never break the runs it records
                self._warn_once(store, "Run history could not be written: %s", exc)
                continue
            self._prune_now_and_then(key, store)

    def _prune_now_and_then(self, key: int, store) -> None:
        """Apply the retention at a store's first write, then every PRUNE_INTERVAL seconds."""
        now = time.monotonic()
        if now < self._next_prune.get(key, 0.0):
            return
        self._next_prune[key] = now + PRUNE_INTERVAL
        from core_blocks.runtime.retention import prune_runs, retention_from_env

        try:
            prune_runs(store, retention_from_env())
        except Exception as exc:  # a bad setting or a busy store: runs are kept meanwhile
            self._warn_once(store, "Run history was not pruned: %s", exc)

    def _upsert(self, store) -> str:
        sql = self._upserts.get(store.dialect.name)
        if sql is None:
            sql = self._upserts[store.dialect.name] = _run_upsert(store.dialect)
        return sql

    def _beat(self) -> None:
        """Refresh the heartbeat of every live run of this process, on the store's clock."""
        timeout = LAPSE_BEATS * heartbeat_seconds()
        for store, ids in list(self._live.values()):
            ordered = sorted(ids)
            try:
                with store.transaction() as tx:
                    for start in range(0, len(ordered), _BEAT_CHUNK):
                        chunk = ordered[start:start + _BEAT_CHUNK]
                        tx.execute(
                            f"UPDATE runs SET heartbeat = {store.dialect.now_epoch()}, "
                            f"heartbeat_timeout = ? WHERE id IN ({', '.join('?' * len(chunk))})",
                            (timeout, *chunk))
            except Exception as exc:  # a missed beat is retried at the next interval
                self._warn_once(store, "Run heartbeats could not be written: %s", exc)

    def _warn_once(self, store, message: str, exc: Exception) -> None:
        if (store.url, message) not in self._failed_stores:
            self._failed_stores.add((store.url, message))
            logger.warning(message, exc)


def _run_row(run: Run) -> tuple:
    # Read once: the run may move on while the writer builds the row.
    states = run.states
    last = states[-1]
    error_type, message, text = run.error if last.is_final else (None, None, None)
    return (run.id, run.kind, run.name, run.fn_name, run.flow_name, run.parent_id,
            run.flow_run_id, json.dumps(run.parameters, default=str), last.type.value,
            last.name, run.attempts, run.created, run.started, run.ended, error_type, message, text)


def _artifact_row(artifact: dict[str, Any]) -> tuple:
    return (artifact["id"], artifact["run_id"], artifact["flow_run_id"], artifact["key"],
            artifact["type"], artifact["description"], artifact["data"], artifact["created"])


_recorder = _Recorder()
atexit.register(lambda: _recorder.flush(5.0))


def flush(timeout: float = 10.0) -> None:
    """Wait until every run record queued so far is in the store."""
    _recorder.flush(timeout)


def record_artifact(run: Run, artifact: dict[str, Any]) -> None:
    """Queue an artifact row (see core_blocks.runtime.artifacts) for the run's store."""
    _recorder.record_artifact(run, artifact)


def _forget_parent_writer() -> None:
    global _recorder
    _recorder = _Recorder()  # a forked child has no writer thread; it starts its own


os.register_at_fork(after_in_child=_forget_parent_writer)


# -- reading history (the CLI) -----------------------------------------------------------

_COLUMNS = ("id, kind, name, fn_name, flow_name, parent_id, flow_run_id, parameters, state, "
            "state_name, attempts, created, started, ended, error_type, error_message, "
            "traceback, heartbeat")
_LIVE_STATES = ", ".join(f"'{s.value}'" for s in StateType if s not in FINAL_STATES)
CRASHED = StateType.CRASHED.value


def _lapsed(dialect) -> str:
    """SQL: the run is not final and its heartbeat is older than its timeout (store clock)."""
    return (f"(state IN ({_LIVE_STATES}) AND heartbeat + heartbeat_timeout "
            f"< {dialect.now_epoch()})")


def prunable_condition(dialect) -> str:
    """SQL: the run is over, finished or lapsed (see core_blocks.runtime.retention)."""
    finals = ", ".join(f"'{value}'" for value in sorted(_FINAL_VALUES))
    return f"(state IN ({finals}) OR {_lapsed(dialect)})"


def _runs_select(dialect) -> str:
    """The runs as readers see them: a run whose heartbeat lapsed reads as Crashed."""
    lapsed = _lapsed(dialect)
    columns = _COLUMNS.replace(
        "state, state_name,",
        f"CASE WHEN {lapsed} THEN '{CRASHED}' ELSE state END AS state, "
        f"CASE WHEN {lapsed} THEN '{CRASHED}' ELSE state_name END AS state_name,")
    return f"SELECT {columns} FROM runs"


def list_runs(store, *, flow: str | None = None, state: str | None = None,
              kind: str | None = None, limit: int = 20, offset: int = 0,
              name: str | None = None) -> list[dict[str, Any]]:
    """Recorded runs, newest first; name is a glob (`*`, `?`) on the run's name."""
    flush()
    clause, params = _runs_where(flow, state, kind, name)
    sql = (f"SELECT {_COLUMNS} FROM ({_runs_select(store.dialect)}) AS r{clause}"
           " ORDER BY created DESC LIMIT ? OFFSET ?")
    return [_run_dict(row) for row in store.query(sql, (*params, limit, offset))]


def count_runs(store, *, flow: str | None = None, state: str | None = None,
               kind: str | None = None, name: str | None = None) -> int:
    """How many runs list_runs would return without a limit."""
    clause, params = _runs_where(flow, state, kind, name)
    return store.query(f"SELECT COUNT(*) FROM ({_runs_select(store.dialect)}) AS r{clause}",
                       params)[0][0]


def _runs_where(flow, state, kind, name) -> tuple[str, list[Any]]:
    from core_blocks.store import glob_to_like

    where, params = [], []
    for column, value in (("flow_name", flow), ("state", state), ("kind", kind)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if name:
        where.append("LOWER(name) LIKE ? ESCAPE '!'")
        params.append(glob_to_like(name))
    return (" WHERE " + " AND ".join(where) if where else ""), params


def get_run(store, run_id: str) -> dict[str, Any] | None:
    """One run with its states and child runs, by id, unique id prefix, or run name."""
    flush()
    if "-" in run_id:  # a run name: "<function>-<first 8 characters of the id>"
        run_id = run_id.rsplit("-", 1)[1]
    select = _runs_select(store.dialect)
    rows = store.query(f"{select} WHERE id LIKE ? ORDER BY created LIMIT 2",
                       (run_id.lower() + "%",))
    if len(rows) != 1:
        if len(rows) > 1:
            raise LookupError(f"Run id prefix {run_id!r} matches several runs; give more of it.")
        return None
    run = _run_dict(rows[0])
    run["states"] = [
        {"state": s, "name": n, "at": at, "message": m}
        for s, n, at, m in store.query(
            "SELECT state, name, at, message FROM run_states WHERE run_id = ? ORDER BY seq",
            (run["id"],))
    ]
    run["children"] = [
        _run_dict(row) for row in store.query(
            f"{select} WHERE parent_id = ? ORDER BY created", (run["id"],))
    ]
    from core_blocks.runtime.artifacts import list_artifacts

    # Its own and its child runs' artifacts, oldest first: a flow shows what its tasks made.
    run["artifacts"] = list_artifacts(
        store, run_ids=[run["id"], *(c["id"] for c in run["children"])], limit=1000)[::-1]
    return run


def find_run(store, run_id: str) -> dict[str, Any]:
    """get_run, raising RunNotFound for no run and RunFilterError for a prefix of several."""
    from core_blocks.errors import RunFilterError, RunNotFound

    try:
        run = get_run(store, run_id)
    except LookupError as exc:
        raise RunFilterError(str(exc)) from None
    if run is None:
        raise RunNotFound(f"No run with id {run_id!r}. List runs with: blocks runs ls")
    return run


def check_run_filters(state: str | None, kind: str | None) -> tuple[str | None, str | None]:
    """(state, kind) to filter runs on, the state's case corrected; RunFilterError naming
    the choices for one that does not exist. Empty means no filter."""
    from core_blocks.errors import RunFilterError

    if state:
        names = [s.value for s in StateType]
        match = {name.lower(): name for name in names}.get(state.lower())
        if match is None:
            raise RunFilterError(f"Unknown state {state!r}; use one of: {', '.join(names)}.")
        state = match
    if kind and kind not in ("flow", "task"):
        raise RunFilterError(f"Unknown run kind {kind!r}; use flow or task.")
    return state or None, kind or None


def _run_dict(row: tuple) -> dict[str, Any]:
    names = [c.strip() for c in _COLUMNS.split(",")]
    run = dict(zip(names, row, strict=True))
    run["parameters"] = json.loads(run["parameters"])
    started, ended = run["started"], run["ended"]
    run["duration"] = (ended - started) if started is not None and ended is not None else None
    return run


# -- crashed runs (doctor) -----------------------------------------------------------------

def crashed_runs(store) -> list[dict[str, Any]]:
    """Runs not final whose heartbeat lapsed: their process died without recording an end."""
    flush()
    return [{"id": i, "name": n, "state": s, "heartbeat": h} for i, n, s, h in store.query(
        f"SELECT id, name, state, heartbeat FROM runs WHERE {_lapsed(store.dialect)} "
        "ORDER BY created")]


def mark_crashed(store) -> list[str]:
    """Record Crashed as the final state of every run whose heartbeat lapsed; their ids."""
    flush()
    with store.transaction() as tx:
        # Ended at the last sign of life; a run that beats again in between is left alone.
        rows = tx.execute(
            f"UPDATE runs SET state = '{CRASHED}', state_name = '{CRASHED}', "
            f"ended = COALESCE(ended, heartbeat) WHERE {_lapsed(store.dialect)} "
            "RETURNING id, heartbeat, heartbeat_timeout").fetchall()
        for run_id, heartbeat, timeout in rows:
            seq = tx.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM run_states "
                             "WHERE run_id = ?", (run_id,)).fetchone()[0]
            tx.execute(_STATE_INSERT, (
                run_id, seq, CRASHED, CRASHED, heartbeat,
                f"No heartbeat for {timeout:g} s: the process running it stopped; "
                "marked by blocks doctor --fix"))
    return [r[0] for r in rows]
