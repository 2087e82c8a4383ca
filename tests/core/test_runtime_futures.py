"""Futures, .map(), and thread-pool and event-loop concurrency of submitted tasks."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from core_blocks import (
    StateType,
    ThreadPoolTaskRunner,
    flow,
    get_run_context,
    task,
    unmapped,
)
from core_blocks.runtime.futures import AsyncTaskFuture, TaskFuture
from tests.helpers import Peak

# -- futures ------------------------------------------------------------------------------------

@task
def add(a, b):
    return a + b


def test_submit_returns_a_future_in_and_outside_a_flow():
    """submit() returns a TaskFuture: result(timeout), state, wait, done, task_run_id."""
    outside = add.submit(1, 2)
    assert isinstance(outside, TaskFuture) and outside.result(timeout=5) == 3

    @flow
    def pipeline():
        future = add.submit(2, 3)
        future.wait()
        assert future.done()
        return future.result(timeout=5), future.state, future.task_run_id, future.run

    value, state, run_id, run = pipeline()
    assert value == 5 and state.type is StateType.COMPLETED and state.result() == 5
    assert run.id == run_id and run.kind == "task" and run.attempts == 1


def test_future_result_timeout_and_running_state():
    """result(timeout) raises TimeoutError while the run goes on; state shows it Running."""
    release = threading.Event()

    @task
    def gated():
        release.wait(5)
        return "finished"

    future = gated.submit()
    deadline = time.monotonic() + 2
    while future.state.type is not StateType.RUNNING and time.monotonic() < deadline:
        time.sleep(0.01)
    assert future.state.type is StateType.RUNNING and not future.done()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="did not finish within 0.1 s"):
        future.result(timeout=0.1)
    future.wait(timeout=0.05)
    assert time.monotonic() - started < 0.5 and not future.done()
    release.set()
    assert future.result(timeout=5) == "finished"
    assert future.state.type is StateType.COMPLETED


def test_failed_future():
    """A failed run's future raises its error, or returns it with raise_on_failure=False."""
    @task
    def boom(x):
        raise ValueError(f"bad {x}")

    future = boom.submit(1)
    with pytest.raises(ValueError, match="bad 1"):
        future.result(timeout=5)
    assert isinstance(future.result(raise_on_failure=False), ValueError)
    assert future.state.type is StateType.FAILED


def test_map_with_unmapped():
    """map() runs once per item; unmapped() values go whole to every run."""
    @task
    def scale(x, factor, extra):
        return x * factor + sum(extra)

    @flow
    def pipeline():
        futures = scale.map([1, 2, 3], unmapped(10), extra=unmapped([1, 1]))
        zipped = add.map((1, 2), b=[10, 20])
        return [f.result() for f in futures], [f.result() for f in zipped], len(futures)

    assert pipeline() == ([12, 22, 32], [11, 22], 3)


def test_map_errors():
    """Iterables of different lengths, or none at all, are refused with the fix stated."""
    with pytest.raises(ValueError, match=r"different lengths \[2, 3\].*unmapped"):
        add.map([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least one iterable"):
        add.map(unmapped([1]), 2)
    with pytest.raises(ValueError, match="at least one iterable"):
        add.map("ab", "cd")  # strings are constants, not iterables to map over


def test_futures_as_arguments_are_resolved_first():
    """A future passed to a task (alone, in a list, to map) is its result, waited for first."""
    finished = []

    @task
    def slow_one():
        time.sleep(0.1)
        finished.append(time.monotonic())
        return 1

    @task
    def total(values, started=None):
        return sum(values), time.monotonic()

    @flow
    def pipeline():
        one = slow_one.submit()
        two = add.submit(one, one)
        direct = add(one, 5)
        summed, started = total.submit([one, two]).result()
        doubled = [f.result() for f in add.map([one, two], unmapped(one))]
        return two.result(), direct, summed, started, doubled

    two, direct, summed, started, doubled = pipeline()
    assert (two, direct, summed, doubled) == (2, 6, 3, [2, 3])
    assert started >= finished[0]


def test_flow_returns_after_its_submitted_tasks_finish():
    """A flow waits for tasks it submitted but never waited for; returned futures resolve."""
    done = []

    @task
    def later(x):
        time.sleep(0.1)
        done.append(x)
        return x

    @flow
    def pipeline():
        later.submit("forgotten")
        return [later.submit("returned")]

    assert pipeline() == ["returned"]
    assert sorted(done) == ["forgotten", "returned"]


@pytest.mark.parametrize("options", [{"max_workers": 2},
                                     {"task_runner": ThreadPoolTaskRunner(max_workers=2)}])
def test_flow_task_runner_size_bounds_concurrency(options):
    """A flow's thread pool of 2 runs at most 2 submitted tasks at once (and does run 2)."""
    peak = Peak()

    @task
    def busy(i):
        with peak:
            time.sleep(0.1)
        return i

    @flow(**options)
    def pipeline():
        return [f.result() for f in busy.map(range(6))]

    started = time.monotonic()
    assert pipeline() == list(range(6))
    assert peak.peak == 2 and time.monotonic() - started >= 0.29


def test_default_runner_runs_tasks_in_parallel():
    """Without a size, a flow's runner runs several tasks at once."""
    peak = Peak()

    @task
    def busy():
        with peak:
            time.sleep(0.1)

    @flow(max_workers=4)
    def pipeline():
        return [f.wait() for f in [busy.submit() for _ in range(4)]]

    pipeline()
    assert peak.peak == 4


def test_async_tasks_run_concurrently_on_the_event_loop():
    """Three async tasks of 0.2 s submitted in an async flow finish together in ~0.2 s."""
    @task
    async def nap(i):
        await asyncio.sleep(0.2)
        return i, get_run_context().run.parent_id

    @flow
    async def pipeline():
        flow_id = get_run_context().run.id
        futures = [nap.submit(i) for i in range(3)]
        assert all(isinstance(f, AsyncTaskFuture) for f in futures)
        results = [await f for f in futures]
        return results, flow_id, futures[0].state.type

    started = time.monotonic()
    results, flow_id, state = asyncio.run(pipeline())
    assert time.monotonic() - started < 0.45
    assert results == [(0, flow_id), (1, flow_id), (2, flow_id)]
    assert state is StateType.COMPLETED


def test_async_flow_awaits_unawaited_async_tasks():
    """An async flow ends after the async tasks it submitted and did not await."""
    done = []

    @task
    async def later():
        await asyncio.sleep(0.05)
        done.append(1)

    @flow
    async def pipeline():
        later.submit()
        return "returned"

    assert asyncio.run(pipeline()) == "returned" and done == [1]


def test_async_task_submitted_outside_a_loop_runs_in_a_thread():
    """An async task submitted from sync code still runs, and its future resolves."""
    @task
    async def double(x):
        await asyncio.sleep(0.01)
        return 2 * x

    assert double.submit(21).result(timeout=5) == 42
