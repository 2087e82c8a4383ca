"""What a run knows about where it runs: the enclosing run and the flow's task runner."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core_blocks.runtime.history import Run
    from core_blocks.runtime.task_runners import ThreadPoolTaskRunner


@dataclass(frozen=True)
class RunContext:
    """The innermost run in progress, and the flow run that encloses it."""

    run: Run
    flow_run: Run | None
    task_runner: ThreadPoolTaskRunner | None
    log_prints: bool
    async_tasks: list | None = None  # async task runs a flow awaits before it ends
    is_async: bool = False  # the run's function is async: dispatched names return awaitables


@dataclass(frozen=True)
class TaskRunContext:
    """What a cache_key_fn receives: the task, its run and its bound parameters."""

    task: Any
    run: Run
    parameters: dict[str, Any]


current_run: ContextVar[RunContext | None] = ContextVar("core_blocks_run", default=None)


def get_run_context() -> RunContext | None:
    """The RunContext of the flow or task run in progress, or None outside any run."""
    return current_run.get()
