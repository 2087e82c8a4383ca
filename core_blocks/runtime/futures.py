"""Futures for submitted task runs, and resolving futures passed as arguments."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from core_blocks.runtime.history import Run
from core_blocks.runtime.states import State, StateType


class TaskFuture:
    """A task run submitted to a thread pool: `result(timeout)`, `state`, `wait`.

    Waiting on a run that no pool thread has started yet runs it in the waiting thread.
    """

    def __init__(self, run: Run, future: concurrent.futures.Future, work: Any = None):
        self.run = run
        self._future = future
        self._work = work
        self._inline_state: State | None = None
        self._inline = False  # run by a waiting thread rather than by the pool
        self._inline_done = threading.Event()  # set once that inline run has ended
        self._claim_lock = threading.Lock()

    @property
    def task_run_id(self) -> str:
        return self.run.id

    def _pool_state(self) -> State | None:
        """The state the pool thread returned; None if not done or the run was taken inline."""
        if not self._future.done():
            return None
        try:
            return self._future.result()
        except BaseException:  # a crash (e.g. KeyboardInterrupt) was re-raised by the run
            return self.run.state

    def _final_state(self) -> State | None:
        if self._inline:
            return self._inline_state if self._inline_done.is_set() else None
        return self._pool_state()

    @property
    def state(self) -> State:
        """The final state when done, else the run's latest (Pending, Running, Retrying)."""
        return self._final_state() or self.run.state or State(StateType.PENDING)

    def done(self) -> bool:
        return self._final_state() is not None

    def _run_inline_if_waiting(self) -> None:
        with self._claim_lock:
            if self._work is None or self._inline or not self._work.claim():
                return  # a pool thread has it, or another waiter runs it inline
            self._inline = True
        try:
            self._inline_state = self._work.run()
        finally:
            self._inline_done.set()

    def _wait(self, timeout: float | None) -> State | None:
        self._run_inline_if_waiting()
        if self._inline:  # never wait on the pool: its thread may be the one waiting here
            self._inline_done.wait(timeout)
        else:
            concurrent.futures.wait([self._future], timeout=timeout)
        return self._final_state()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the run ends or `timeout` seconds pass."""
        self._wait(timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> Any:
        """The task's return value; raises its error, or TimeoutError after `timeout`."""
        state = None
        if not self._inline and self._future.done():
            state = self._future.result()  # re-raises a crash as the run did
        if state is None:
            state = self._wait(timeout)
        if state is None:
            raise TimeoutError(
                f"Task run {self.run.name!r} did not finish within {timeout} s; it keeps running."
            )
        return state.result(raise_on_failure)

    def __repr__(self) -> str:
        return f"TaskFuture({self.run.name!r}, state={self.state.name})"


class AsyncTaskFuture:
    """An async task run scheduled on the running event loop; `await` it for the result."""

    def __init__(self, run: Run, task: asyncio.Task):
        self.run = run
        self._task = task

    @property
    def task_run_id(self) -> str:
        return self.run.id

    @property
    def state(self) -> State:
        if self._task.done():
            return self._task.result()
        return self.run.state or State(StateType.PENDING)

    def done(self) -> bool:
        return self._task.done()

    async def wait(self, timeout: float | None = None) -> None:
        await asyncio.wait([self._task], timeout=timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> Any:
        """The return value of a finished run; use `await future` while it runs."""
        if not self._task.done():
            raise RuntimeError(
                f"Task run {self.run.name!r} is still running: use `await future` in async code."
            )
        return self._task.result().result(raise_on_failure)

    def __await__(self):
        state = yield from self._task.__await__()
        return state.result()

    def __repr__(self) -> str:
        return f"AsyncTaskFuture({self.run.name!r}, state={self.state.name})"


def resolve_futures(value: Any) -> Any:
    """value with every TaskFuture inside (lists, tuples, dicts) replaced by its result."""
    if isinstance(value, (TaskFuture, AsyncTaskFuture)):
        return value.result()
    if type(value) in (list, tuple, set):
        return type(value)(resolve_futures(v) for v in value)
    if type(value) is dict:
        return {k: resolve_futures(v) for k, v in value.items()}
    return value


async def aresolve_futures(value: Any) -> Any:
    """Like resolve_futures, awaiting futures of async tasks."""
    if isinstance(value, AsyncTaskFuture):
        return await value
    if isinstance(value, TaskFuture):
        await asyncio.wrap_future(value._future)
        return value.result()
    if type(value) in (list, tuple, set):
        return type(value)([await aresolve_futures(v) for v in value])
    if type(value) is dict:
        return {k: await aresolve_futures(v) for k, v in value.items()}
    return value


def has_futures(values: Any) -> bool:
    return any(isinstance(v, (TaskFuture, AsyncTaskFuture)) or
               (type(v) in (list, tuple, set, dict) and
                has_futures(v.values() if type(v) is dict else v)) for v in values)
