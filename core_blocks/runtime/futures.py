"""Futures for submitted task runs, and resolving futures passed as arguments."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from core_blocks.runtime.history import Run
from core_blocks.runtime.states import State, StateType


class TaskFuture:
    """A task run submitted to a thread pool: `result(timeout)`, `state`, `wait`."""

    def __init__(self, run: Run, future: concurrent.futures.Future):
        self.run = run
        self._future = future

    @property
    def task_run_id(self) -> str:
        return self.run.id

    @property
    def state(self) -> State:
        """The final state when done, else the run's latest (Pending, Running, Retrying)."""
        if self._future.done():
            return self._future.result()
        return self.run.state or State(StateType.PENDING)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the run ends or `timeout` seconds pass."""
        concurrent.futures.wait([self._future], timeout=timeout)

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> Any:
        """The task's return value; raises its error, or TimeoutError after `timeout`."""
        try:
            state = self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(
                f"Task run {self.run.name!r} did not finish within {timeout} s; it keeps running."
            ) from None
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
