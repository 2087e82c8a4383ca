"""@flow: a function that runs tasks, with retries, timeouts, hooks and run history."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core_blocks.runtime import engine
from core_blocks.runtime.options import Wrapped, as_hook_list
from core_blocks.runtime.task_runners import ThreadPoolTaskRunner


class Flow(Wrapped):
    """A function run as a flow: its task calls are recorded under its run."""

    kind = "flow"

    def __init__(
        self,
        fn: Callable,
        *,
        name: str | None = None,
        retries: int = 0,
        retry_delay_seconds: float | list[float] | Callable[[int], float] = 0,
        timeout_seconds: float | None = None,
        task_runner: ThreadPoolTaskRunner | None = None,
        max_workers: int | None = None,
        log_prints: bool | None = None,
        on_completion: Callable | Iterable[Callable] | None = None,
        on_failure: Callable | Iterable[Callable] | None = None,
        on_crashed: Callable | Iterable[Callable] | None = None,
    ):
        if task_runner is not None and max_workers is not None:
            raise ValueError("Give a flow task_runner or max_workers, not both.")
        self._configure(fn, name, retries, retry_delay_seconds, timeout_seconds, log_prints,
                        on_completion, on_failure)
        self.retry_jitter_factor = None
        self.retry_condition_fn = None
        self.task_runner = task_runner or ThreadPoolTaskRunner(max_workers)
        self.on_crashed = as_hook_list(on_crashed, "on_crashed")

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
