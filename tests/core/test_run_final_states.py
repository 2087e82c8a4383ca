"""A run's end is never replaced in the store: a writer that comes later with another state (a
Dask worker whose sync task ran on after its flow recorded it Cancelled, a process that outlived
the Crashed `blocks doctor --fix` recorded) adds neither its states nor its row; the same end
written twice is kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core_blocks.runtime import history
from core_blocks.runtime.history import Run
from core_blocks.runtime.states import State, StateType
from core_blocks.store import get_store
from tests.core.test_store import raw_execute

pytestmark = pytest.mark.usefixtures("any_store")


def recorded(*states: StateType, like: Run | None = None, worker: str | None = None) -> Run:
    """A task run recorded through these states; `like` gives another writer of the same run
    (another process continuing it, as a Dask worker does), which starts from its states."""
    run = Run("task", "load", {}, store=get_store(), worker=worker)
    if like is not None:
        run.id, run.created = like.id, like.created
        run.states = list(like.states)
    for state in states:
        run.set_state(State(state, error=RuntimeError("stopped") if state in (
            StateType.CANCELLED, StateType.FAILED) else None))
    history.flush()
    return run


def stored(run: Run) -> tuple[str, list[str]]:
    found = history.get_run(get_store(), run.id)
    return found["state"], [s["state"] for s in found["states"]]


def test_a_later_writer_does_not_replace_a_cancelled_run():
    flow_side = recorded(StateType.PENDING)
    worker = recorded(StateType.RUNNING, like=flow_side, worker="tcp://127.0.0.1:1 (w)")
    recorded(StateType.CANCELLED, like=worker)  # the flow gave up on it

    recorded(StateType.COMPLETED, like=worker, worker="tcp://127.0.0.1:1 (w)")  # ran on

    assert stored(flow_side) == ("Cancelled", ["Pending", "Running", "Cancelled"])
    assert history.get_run(get_store(), flow_side.id)["error_type"] == "RuntimeError"


def test_states_that_reach_the_store_after_the_end_are_left_out():
    """The flow recorded Cancelled before the worker's Running arrived: nothing follows it."""
    flow_side = recorded(StateType.PENDING)
    recorded(StateType.CANCELLED, like=flow_side)

    recorded(StateType.RUNNING, StateType.FAILED, like=flow_side)

    assert stored(flow_side) == ("Cancelled", ["Pending", "Cancelled"])


def test_the_same_end_written_twice_is_kept():
    """The flow mirrors the states its Dask worker recorded: the same rows again."""
    flow_side = recorded(StateType.PENDING)
    recorded(StateType.RUNNING, StateType.COMPLETED, like=flow_side, worker="w")

    recorded(StateType.RUNNING, StateType.COMPLETED, like=flow_side, worker="w")

    assert stored(flow_side) == ("Completed", ["Pending", "Running", "Completed"])


def test_retries_and_a_worker_taking_over_a_live_run_are_recorded():
    flow_side = recorded(StateType.PENDING, StateType.RUNNING, StateType.RETRYING)

    recorded(StateType.RUNNING, StateType.COMPLETED, like=flow_side, worker="w")

    assert stored(flow_side) == (
        "Completed", ["Pending", "Running", "Retrying", "Running", "Completed"])


def test_a_run_marked_crashed_stays_crashed_when_its_process_ends_it_later():
    run = recorded(StateType.PENDING, StateType.RUNNING)
    raw_execute(f"UPDATE runs SET heartbeat = heartbeat - 3600 WHERE id = '{run.id}'")
    assert history.mark_crashed(get_store()) == [run.id]

    run.set_state(State(StateType.COMPLETED))  # its process was alive after all
    history.flush()

    assert stored(run) == ("Crashed", ["Pending", "Running", "Crashed"])
