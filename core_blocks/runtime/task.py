"""@task: a function with retries, timeouts, caching, hooks and run history."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from core_blocks.runtime import engine
from core_blocks.runtime.context import current_run
from core_blocks.runtime.futures import AsyncTaskFuture, TaskFuture
from core_blocks.runtime.options import TaskOptions
from core_blocks.runtime.task_runners import shared_runner
from core_blocks.runtime.wrapped import Wrapped


class Task(Wrapped):
    """A function run as a task; call it, `.submit()` it, or `.map()` it.

    Its keywords are the fields of TaskOptions (retries, timeout_seconds, cache_key_fn…);
    each is also an attribute: `task.retries`.
    """

    kind = "task"
    options_type = TaskOptions
    options: TaskOptions

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        """Run the task now and return its result (async tasks: a coroutine to await)."""
        if self.is_async:
            return self._acall(args, kwargs, return_state)
        state = engine.run_task(self, args, kwargs)
        return state if return_state else state.result()

    async def _acall(self, args: tuple, kwargs: dict, return_state: bool) -> Any:
        state = await engine.arun_task(self, args, kwargs)
        return state if return_state else state.result()

    def submit(self, *args: Any, **kwargs: Any) -> TaskFuture | AsyncTaskFuture:
        """Start the task concurrently and return a future for its result.

        Sync tasks run on the flow's thread pool (outside a flow, a shared one). Async tasks
        submitted from a running event loop run on that loop.
        """
        run = engine.new_run("task", self)
        context = current_run.get()
        runner = context.task_runner if context and context.task_runner else shared_runner()
        remote = getattr(runner, "remote", False)  # e.g. Dask: every task runs over there
        if self.is_async:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                if remote:
                    future, _ = runner.submit(self._run_async_in_thread, self, args, kwargs, run)
                    scheduled = loop.create_task(_state_of(future))
                else:
                    scheduled = loop.create_task(engine.arun_task(self, args, kwargs, run))
                if context is not None and context.async_tasks is not None:
                    context.async_tasks.append(scheduled)
                return AsyncTaskFuture(run, scheduled)
            target = self._run_async_in_thread
        else:
            target = engine.run_task
        future, work = runner.submit(target, self, args, kwargs, run)
        return TaskFuture(run, future, work)

    def _run_async_in_thread(self, task: Task, args: tuple, kwargs: dict, run: Any) -> Any:
        return asyncio.run(engine.arun_task(task, args, kwargs, run))

    def map(self, *args: Any, **kwargs: Any) -> list[TaskFuture | AsyncTaskFuture]:
        """Submit one run per item of the iterable arguments; wrap constants in unmapped()."""
        from core_blocks.runtime.futures import TaskFuture
        from core_blocks.runtime.mapping import expand

        # A future to map over (e.g. `double.map(ids.submit())`) is waited for first.
        args = tuple(a.result() if isinstance(a, TaskFuture) else a for a in args)
        kwargs = {k: v.result() if isinstance(v, TaskFuture) else v for k, v in kwargs.items()}
        return [self.submit(*a, **kw) for a, kw in expand(self.name, args, kwargs)]


async def _state_of(future: Any) -> Any:
    """The final State a runner's concurrent future resolves to, awaited on the loop."""
    return await asyncio.wrap_future(future)


def task(fn: Callable | None = None, /, **options: Any) -> Any:
    """Make a function a Task: `@task`, or `@task(retries=3, timeout_seconds=10, ...)`."""
    if fn is None:
        return lambda f: Task(f, **options)
    return Task(fn, **options)
