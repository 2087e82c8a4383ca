"""@flow: a function that runs tasks, with retries, timeouts, hooks and run history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core_blocks.runtime import engine
from core_blocks.runtime.options import FlowOptions
from core_blocks.runtime.task_runners import ThreadPoolTaskRunner
from core_blocks.runtime.wrapped import Wrapped


class Flow(Wrapped):
    """A function run as a flow: its task calls are recorded under its run.

    Its keywords are the fields of FlowOptions (retries, timeout_seconds, task_runner…) and
    max_workers, the size of a default task runner; each option is also an attribute.
    """

    kind = "flow"
    options_type = FlowOptions
    options: FlowOptions
    other_keywords = ("max_workers",)

    def __init__(self, fn: Callable, *, max_workers: int | None = None, **options: Any):
        if options.get("task_runner") is not None and max_workers is not None:
            raise ValueError("Give a flow task_runner or max_workers, not both.")
        options["task_runner"] = options.get("task_runner") or ThreadPoolTaskRunner(max_workers)
        super().__init__(fn, **options)

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        """Run the flow and return its result (async flows: a coroutine to await)."""
        if self.is_async:
            return self._acall(args, kwargs, return_state)
        state = engine.run_flow(self, args, kwargs)
        return state if return_state else state.result()

    async def _acall(self, args: tuple, kwargs: dict, return_state: bool) -> Any:
        state = await engine.arun_flow(self, args, kwargs)
        return state if return_state else state.result()


def flow(fn: Callable | None = None, /, **options: Any) -> Any:
    """Make a function a Flow: `@flow`, or `@flow(retries=1, timeout_seconds=60, ...)`."""
    if fn is None:
        return lambda f: Flow(f, **options)
    return Flow(fn, **options)
