"""Running one task or flow to its final state: the entry points Task and Flow call.

Each binds the call's arguments, then hands its attempts to the shared drivers in
attempts.py; what differs is around them: a task may be served from the cache and runs in
its caller's task runner, a flow runs each attempt with a task runner of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from core_blocks.runtime import task_cache
from core_blocks.runtime.attempts import aattempt, asettle, attempt, settle
from core_blocks.runtime.futures import aresolve_futures, has_futures, resolve_futures
from core_blocks.runtime.history import Run
from core_blocks.runtime.hooks import acall_hooks, call_hooks
from core_blocks.runtime.run_lifecycle import (
    call_arguments,
    effective_log_prints,
    enter,
    failed_to_start,
    finish,
    leave,
    new_run,
    record_parameters,
)
from core_blocks.runtime.states import State, StateType

__all__ = ["arun_flow", "arun_task", "new_run", "run_flow", "run_task"]


# -- tasks ---------------------------------------------------------------------------------------

def run_task(task: Any, args: tuple, kwargs: dict, run: Run | None = None) -> State:
    """Run a sync task to its final state (a crash is re-raised)."""
    run = run or new_run("task", task)
    log_prints = effective_log_prints(task)
    try:
        if has_futures(args) or has_futures(kwargs.values()):
            args, kwargs = resolve_futures(args), resolve_futures(kwargs)
        parameters = record_parameters(task, run, args, kwargs)
    except Exception as exc:
        state = failed_to_start(task, run, exc)
        call_hooks(task, run, state)
        return state
    return settle(task, run, _task_attempts, task, run, parameters, log_prints)


def _task_attempts(task: Any, run: Run, parameters: dict[str, Any], log_prints: bool) -> State:
    tokens = enter(task, run, None, log_prints, None)
    try:
        served, call, on_success = _cached_or_call(task, run, parameters)
        if served is not None:
            return served
        return attempt(task, run, call, on_success)
    finally:
        leave(tokens)


async def arun_task(task: Any, args: tuple, kwargs: dict, run: Run | None = None) -> State:
    """Run an async task to its final state on the running loop."""
    run = run or new_run("task", task)
    log_prints = effective_log_prints(task)
    try:
        args, kwargs = await aresolve_futures(args), await aresolve_futures(kwargs)
        parameters = record_parameters(task, run, args, kwargs)
    except Exception as exc:
        state = failed_to_start(task, run, exc)
        await acall_hooks(task, run, state)
        return state
    return await asettle(task, run, _atask_attempts(task, run, parameters, log_prints))


async def _atask_attempts(task: Any, run: Run, parameters: dict[str, Any], log_prints: bool
                          ) -> State:
    tokens = enter(task, run, None, log_prints, None)
    try:
        served, call, on_success = _cached_or_call(task, run, parameters)
        if served is not None:
            return served
        return await aattempt(task, run, call, on_success)
    finally:
        leave(tokens)


def _cached_or_call(task: Any, run: Run, parameters: dict[str, Any]
                    ) -> tuple[State | None, Callable[[], Any], Callable[[Any], None] | None]:
    """(the run finished from the cache, or None), the attempt's call, and what stores a
    completed attempt's value in the cache (None when the run is uncached)."""
    slot, cached = task_cache.lookup(task, run, parameters)
    if cached is not task_cache.MISS:
        served = finish(task, run, State(StateType.COMPLETED, name="Cached", data=cached))
        return served, task.fn, None
    args, kwargs = call_arguments(task, parameters)
    on_success = None if slot is None else partial(task_cache.store, task, slot)
    return None, lambda: task.fn(*args, **kwargs), on_success


# -- flows ---------------------------------------------------------------------------------------

def run_flow(flow: Any, args: tuple, kwargs: dict) -> State:
    """Run a sync flow to its final state (a crash calls on_crashed, then re-raises)."""
    run = new_run("flow", flow)
    try:
        parameters = record_parameters(flow, run, args, kwargs)
    except Exception as exc:
        state = failed_to_start(flow, run, exc)
        call_hooks(flow, run, state)
        return state
    call_args, call_kwargs = call_arguments(flow, parameters)
    log_prints = effective_log_prints(flow)

    def body() -> Any:
        runner = flow.options.task_runner.duplicate()
        tokens = enter(flow, run, runner, log_prints, [])
        try:
            return resolve_futures(flow.fn(*call_args, **call_kwargs))
        finally:
            runner.shutdown(wait=True)
            leave(tokens)

    return settle(flow, run, attempt, flow, run, body)


async def arun_flow(flow: Any, args: tuple, kwargs: dict) -> State:
    """Run an async flow to its final state."""
    run = new_run("flow", flow)
    try:
        parameters = record_parameters(flow, run, args, kwargs)
    except Exception as exc:
        state = failed_to_start(flow, run, exc)
        await acall_hooks(flow, run, state)
        return state
    call_args, call_kwargs = call_arguments(flow, parameters)
    log_prints = effective_log_prints(flow)

    async def body() -> Any:
        runner = flow.options.task_runner.duplicate()
        async_tasks: list[asyncio.Task] = []
        tokens = enter(flow, run, runner, log_prints, async_tasks)
        try:
            return await aresolve_futures(await flow.fn(*call_args, **call_kwargs))
        except asyncio.CancelledError:  # timed out (or cancelled): stop its async tasks too
            for submitted in async_tasks:
                submitted.cancel()
            runner.shutdown(wait=False)
            raise
        finally:
            if async_tasks and not all(t.done() for t in async_tasks):
                await asyncio.gather(*async_tasks, return_exceptions=True)
            await asyncio.to_thread(runner.shutdown, True)
            leave(tokens)

    return await asettle(flow, run, aattempt(flow, run, body))
