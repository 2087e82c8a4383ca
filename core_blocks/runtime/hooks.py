"""Calling a run's hooks for its final state; a hook's own error is logged, never raised."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

from core_blocks.dispatch import running_sync
from core_blocks.runtime.history import Run
from core_blocks.runtime.states import State

logger = logging.getLogger("core_blocks.runs")


def call_hooks(obj: Any, run: Run, state: State) -> None:
    """Call obj's hooks for state, hook(obj, run, state); an async hook runs to its end."""
    for hook in obj.options.hooks_for(state):
        try:
            outcome = hook(obj, run, state)
            if inspect.isawaitable(outcome):
                _run_coroutine(outcome)
        except Exception:
            _hook_failed(obj, run, hook, state)


async def acall_hooks(obj: Any, run: Run, state: State) -> None:
    """call_hooks on the running loop: async hooks are awaited; in sync ones, dispatched
    names (`Block.load`...) return values."""
    for hook in obj.options.hooks_for(state):
        try:
            with running_sync():
                outcome = hook(obj, run, state)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            _hook_failed(obj, run, hook, state)


def _hook_failed(obj: Any, run: Run, hook: Callable, state: State) -> None:
    logger.exception("Hook %s of %s run %r failed; the run stays %s.",
                     getattr(hook, "__name__", hook), obj.kind, run.name, state.name)


def _run_coroutine(coroutine: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from sync code inside a running loop: give the coroutine a loop of its own, in
    # a thread that sees the caller's context (its run, for the run logger).
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised below, where the hook's caller logs it
            box["error"] = exc

    thread = threading.Thread(target=contextvars.copy_context().run, args=(target,))
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")
