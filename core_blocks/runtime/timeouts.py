"""timeout_seconds: calling or awaiting an attempt with a time limit, and telling a run's own
timeout from a TimeoutError its code raised."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any

from core_blocks.errors import RunTimeoutError
from core_blocks.runtime.history import Run


def call_with_timeout(obj: Any, run: Run, call: Callable[[], Any]) -> Any:
    """call() in this thread, or in a helper thread when obj has timeout_seconds.

    Python cannot stop a thread: on a timeout the run ends TimedOut at once, and the helper
    thread (a daemon) runs on until the function returns, its result discarded.
    """
    timeout = obj.options.timeout_seconds
    if timeout is None:
        return call()
    box: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = context.run(call)
        except BaseException as exc:  # handed back to the calling thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name=f"core-blocks-{run.name}")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise timeout_error(obj, run)
    if "error" in box:
        raise box["error"]
    return box["value"]


async def await_with_timeout(obj: Any, run: Run, awaitable: Any) -> Any:
    """await awaitable; past timeout_seconds, cancel it and return at once.

    Not asyncio.wait_for: it would label a TimeoutError raised *inside* the awaitable as this
    run's timeout, and it waits for the cancelled work to wind down.
    """
    timeout = obj.options.timeout_seconds
    if timeout is None:
        return await awaitable
    work = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({work}, timeout=timeout)
    except asyncio.CancelledError:  # the caller was cancelled: stop the work with it
        work.cancel()
        raise
    if not done:
        work.cancel()
        raise timeout_error(obj, run)
    return work.result()


def timeout_error(obj: Any, run: Run) -> RunTimeoutError:
    """The error of a run that exceeded its timeout_seconds, marked with the run's id."""
    error = RunTimeoutError(
        f"{obj.kind.capitalize()} run {run.name!r} exceeded timeout_seconds="
        f"{obj.options.timeout_seconds}. Raise timeout_seconds or make the work faster."
    )
    error.run_id = run.id  # type: ignore[attr-defined]  # a nested run's timeout is a failure
    return error


def timed_out(run: Run, exc: BaseException) -> bool:
    """Whether exc is run's own timeout (not a nested run's, nor the code's TimeoutError)."""
    return getattr(exc, "run_id", None) == run.id
