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

from core_blocks.runtime.redaction import SecretValues
from core_blocks.runtime.states import FINAL_STATES, State, StateType

logger = logging.getLogger("core_blocks.runs")

HEARTBEAT_ENV = "CORE_BLOCKS_RUN_HEARTBEAT_SECONDS"
DEFAULT_HEARTBEAT_SECONDS = 10.0
LAPSE_BEATS = 3  # a run silent for this many intervals has crashed (one late beat is not enough)
_FINAL_VALUES = frozenset(s.value for s in FINAL_STATES)
PRUNE_INTERVAL = 300.0  # seconds between the writer's retention passes over one store
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
    worker: str | None = None  # where it ran, when not in the flow's process (a Dask worker)

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
        from core_blocks.store import runs as stored_runs

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
                stored_runs.record(store, [(*_run_row(r), timeout) for r in runs.values()],
                                   states, artifacts.get(key, []))
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

    def _beat(self) -> None:
        """Refresh the heartbeat of every live run of this process, on the store's clock."""
        from core_blocks.store import runs as stored_runs

        timeout = LAPSE_BEATS * heartbeat_seconds()
        for store, ids in list(self._live.values()):
            try:
                stored_runs.beat(store, ids, timeout)
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
            last.name, run.attempts, run.created, run.started, run.ended, error_type, message, text,
            run.worker)


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

CRASHED = StateType.CRASHED.value


def prunable_condition(dialect) -> str:
    """SQL: the run is over, finished or lapsed (see core_blocks.runtime.retention)."""
    from core_blocks.store import runs as stored_runs

    return stored_runs.prunable_condition(dialect)


def list_runs(store, *, flow: str | None = None, state: str | None = None,
              kind: str | None = None, limit: int = 20, offset: int = 0,
              name: str | None = None) -> list[dict[str, Any]]:
    """Recorded runs, newest first; name is a glob (`*`, `?`) on the run's name."""
    from core_blocks.store import runs as stored_runs

    flush()
    return stored_runs.list_runs(store, flow=flow, state=state, kind=kind, limit=limit,
                                 offset=offset, name=name)


def count_runs(store, *, flow: str | None = None, state: str | None = None,
               kind: str | None = None, name: str | None = None) -> int:
    """How many runs list_runs would return without a limit."""
    from core_blocks.store import runs as stored_runs

    return stored_runs.count_runs(store, flow=flow, state=state, kind=kind, name=name)


def get_run(store, run_id: str) -> dict[str, Any] | None:
    """One run with its states and child runs, by id, unique id prefix, or run name."""
    from core_blocks.store import artifacts as stored_artifacts
    from core_blocks.store import runs as stored_runs

    flush()
    if "-" in run_id:  # a run name: "<function>-<first 8 characters of the id>"
        run_id = run_id.rsplit("-", 1)[1]
    found = stored_runs.runs_with_id_prefix(store, run_id, limit=2)
    if len(found) != 1:
        if len(found) > 1:
            raise LookupError(f"Run id prefix {run_id!r} matches several runs; give more of it.")
        return None
    run = found[0]
    run["states"] = stored_runs.run_states(store, run["id"])
    run["children"] = stored_runs.child_runs(store, run["id"])
    # Its own and its child runs' artifacts, oldest first: a flow shows what its tasks made.
    run["artifacts"] = stored_artifacts.list_artifacts(
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


# -- crashed runs (doctor) -----------------------------------------------------------------

def crashed_runs(store) -> list[dict[str, Any]]:
    """Runs not final whose heartbeat lapsed: their process died without recording an end."""
    from core_blocks.store import runs as stored_runs

    flush()
    return stored_runs.lapsed_runs(store)


def mark_crashed(store) -> list[str]:
    """Record Crashed as the final state of every run whose heartbeat lapsed; their ids."""
    from core_blocks.store import runs as stored_runs

    flush()
    return stored_runs.mark_crashed(
        store, "No heartbeat for {timeout:g} s: the process running it stopped; "
               "marked by blocks doctor --fix")
