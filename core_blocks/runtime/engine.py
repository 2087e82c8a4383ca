"""Running one flow or task: attempts, retries, timeouts, caching, states and hooks.

The sync and async paths share every decision (what state a failure leads to, how long to
wait, which hooks to call); only calling the function and sleeping differ.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from core_blocks.errors import RunTimeoutError
from core_blocks.runtime import caching
from core_blocks.runtime.context import RunContext, TaskRunContext, current_run
from core_blocks.runtime.futures import aresolve_futures, has_futures, resolve_futures
from core_blocks.runtime.history import Run
from core_blocks.runtime.redaction import redact_parameters
from core_blocks.runtime.run_logging import ensure_visible, printing_run, route_prints
from core_blocks.runtime.states import State, StateType

logger = logging.getLogger("core_blocks.runs")


# -- runs ----------------------------------------------------------------------------------

def new_run(kind: str, obj: Any) -> Run:
    """A Pending run of obj (a Task or Flow) under whatever run is in progress."""
    ensure_visible()
    parent = current_run.get()
    if kind == "flow":
        flow_name = obj.name
    else:
        flow_name = parent.flow_run.fn_name if parent and parent.flow_run else None
    flow_run = parent.flow_run if parent else None
    run = Run(kind, obj.name, {}, parent_id=parent.run.id if parent else None,
              flow_name=flow_name, flow_run_id=flow_run.id if flow_run else None,
              store=_history_store())
    if parent is not None:
        run.secrets = parent.run.secrets  # an error travels up: mask the whole tree's secrets
    run.set_state(State(StateType.PENDING))
    return run


def _history_store() -> Any:
    from core_blocks.store import get_store

    try:
        return get_store()
    except Exception as exc:  # a store that cannot open must not stop the run
        logger.warning("Run history is off for this run: %s", exc)
        return None


def bind(obj: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by parameter name, defaults included."""
    try:
        bound = obj.signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{obj.kind.capitalize()} {obj.name!r} called with bad arguments: {exc}"
                        ) from None
    bound.apply_defaults()
    return bound.arguments


def record_parameters(obj: Any, run: Run, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Bind the call's arguments and record them, redacted, on the run."""
    parameters = bind(obj, args, kwargs)
    secrets: set[str] = set()
    run.parameters = redact_parameters(parameters, secrets)
    run.secrets.add(secrets)
    return parameters


def _failed_to_start(obj: Any, run: Run, exc: Exception) -> State:
    """A run whose arguments could not be bound (or whose input futures failed)."""
    return _finish(obj, run, State(StateType.FAILED, message=run.secrets.mask(str(exc)),
                                   error=exc))


def _call_fn(obj: Any, parameters: dict[str, Any]) -> tuple[tuple, dict]:
    bound = inspect.BoundArguments(obj.signature, parameters)  # type: ignore[arg-type]
    return bound.args, bound.kwargs


# -- shared decisions --------------------------------------------------------------------------

def retry_delay(obj: Any, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 = the first try)."""
    spec = obj.retry_delay_seconds
    if callable(spec):
        delay = float(spec(attempt))
    elif isinstance(spec, (list, tuple)):
        delay = float(spec[min(attempt, len(spec)) - 1]) if spec else 0.0
    else:
        delay = float(spec or 0)
    jitter = getattr(obj, "retry_jitter_factor", None)
    if jitter:
        delay += random.uniform(0, delay * jitter)  # within [delay, delay * (1 + jitter)]
    return max(delay, 0.0)


def after_failure(obj: Any, run: Run, exc: BaseException, timed_out: bool
                  ) -> tuple[State, float | None]:
    """The state a failed attempt leads to, and the delay before the next one (if any)."""
    kind = StateType.TIMED_OUT if timed_out else StateType.FAILED
    failed = State(kind, message=_error_text(run, exc), error=exc)
    if run.attempts > obj.retries or not _may_retry(obj, run, failed):
        return failed, None
    try:
        delay = retry_delay(obj, run.attempts)
    except Exception:
        logger.exception("retry_delay_seconds of %r failed; not retrying.", obj.name)
        return failed, None
    logger.warning("%s run %r attempt %d of %d failed (%s); retrying in %.3g s.",
                   obj.kind.capitalize(), run.name, run.attempts, obj.retries + 1,
                   failed.message, delay)
    return State(StateType.RETRYING, message=f"{failed.message}; retrying in {delay:.3g} s",
                 data=delay), delay


def _may_retry(obj: Any, run: Run, failed: State) -> bool:
    condition = getattr(obj, "retry_condition_fn", None)
    if condition is None:
        return True
    try:
        return bool(condition(obj, run, failed))
    except Exception:
        logger.exception("retry_condition_fn of %r failed; not retrying.", obj.name)
        return False


def _hooks_for(obj: Any, state: State) -> list[Callable]:
    if state.type is StateType.COMPLETED:
        return obj.on_completion
    if state.type in (StateType.FAILED, StateType.TIMED_OUT):
        return obj.on_failure
    if state.type is StateType.CRASHED:
        return getattr(obj, "on_crashed", [])
    return []


def _hook_failed(obj: Any, run: Run, hook: Callable, state: State) -> None:
    logger.exception("Hook %s of %s run %r failed; the run stays %s.",
                     getattr(hook, "__name__", hook), obj.kind, run.name, state.name)


def call_hooks(obj: Any, run: Run, state: State) -> None:
    for hook in _hooks_for(obj, state):
        try:
            outcome = hook(obj, run, state)
            if inspect.isawaitable(outcome):
                _run_coroutine(outcome)
        except Exception:
            _hook_failed(obj, run, hook, state)


async def acall_hooks(obj: Any, run: Run, state: State) -> None:
    for hook in _hooks_for(obj, state):
        try:
            outcome = hook(obj, run, state)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            _hook_failed(obj, run, hook, state)


def _run_coroutine(coroutine: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from sync code inside a running loop: give the coroutine a loop of its own.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised below, where the hook's caller logs it
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _finish(obj: Any, run: Run, state: State) -> State:
    run.set_state(state)
    level = logging.INFO if obj.kind == "flow" else logging.DEBUG
    if state.is_failed():
        level = logging.ERROR
    if logger.isEnabledFor(level):
        detail = f": {state.message}" if state.message else "."
        logger.log(level, "%s run %r finished in state %s after %.3f s%s",
                   obj.kind.capitalize(), run.name, state.name, run.duration, detail)
    return state


def _crashed(obj: Any, run: Run, exc: BaseException) -> State:
    kind = StateType.CANCELLED if isinstance(exc, asyncio.CancelledError) else StateType.CRASHED
    return _finish(obj, run, State(kind, message=_error_text(run, exc), error=exc))


def _error_text(run: Run, exc: BaseException) -> str:
    """"Type: message" for a state, secret values the runs received masked."""
    return run.secrets.mask(f"{type(exc).__name__}: {exc}") or ""


def _timeout_error(obj: Any, run: Run) -> RunTimeoutError:
    error = RunTimeoutError(
        f"{obj.kind.capitalize()} run {run.name!r} exceeded timeout_seconds="
        f"{obj.timeout_seconds}. Raise timeout_seconds or make the work faster."
    )
    error.run_id = run.id  # type: ignore[attr-defined]  # a nested run's timeout is a failure
    return error


def _timed_out(run: Run, exc: BaseException) -> bool:
    return getattr(exc, "run_id", None) == run.id


def _enter(obj: Any, run: Run, runner: Any, log_prints: bool, async_tasks: list | None
           ) -> tuple[contextvars.Token, contextvars.Token | None]:
    parent = current_run.get()
    flow_run = run if obj.kind == "flow" else (parent.flow_run if parent else None)
    if runner is None and parent is not None:
        runner = parent.task_runner
    if async_tasks is None and parent is not None:
        async_tasks = parent.async_tasks
    token = current_run.set(RunContext(run, flow_run, runner, log_prints, async_tasks))
    print_token = None
    if log_prints:
        route_prints()
        print_token = printing_run.set(run)
    elif printing_run.get() is not None:
        print_token = printing_run.set(None)
    return token, print_token


def _exit(tokens: tuple[contextvars.Token, contextvars.Token | None]) -> None:
    token, print_token = tokens
    if print_token is not None:
        printing_run.reset(print_token)
    current_run.reset(token)


def effective_log_prints(obj: Any) -> bool:
    if obj.log_prints is not None:
        return obj.log_prints
    parent = current_run.get()
    return bool(parent and parent.log_prints)


# -- calling with a timeout ----------------------------------------------------------------------

def call_with_timeout(obj: Any, run: Run, call: Callable[[], Any]) -> Any:
    """call() in this thread, or in a helper thread when obj has timeout_seconds.

    Python cannot stop a thread: on a timeout the run ends TimedOut at once, and the helper
    thread (a daemon) runs on until the function returns, its result discarded.
    """
    timeout = obj.timeout_seconds
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
        raise _timeout_error(obj, run)
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- tasks ---------------------------------------------------------------------------------------

def _cache_key(task: Any, run: Run, parameters: dict[str, Any]) -> str | None:
    if task.cache_key_fn is None:
        return None
    try:
        key = task.cache_key_fn(TaskRunContext(task, run, parameters), parameters)
    except Exception as exc:  # the cache is an optimisation: run uncached, say why
        logger.warning("cache_key_fn of task %r failed (%s: %s); running without the cache.",
                       task.name, type(exc).__name__, exc)
        return None
    if key is not None and not isinstance(key, str):
        logger.warning("cache_key_fn of task %r returned a %s, not a str; running without the "
                       "cache.", task.name, type(key).__name__)
        return None
    return key


def _cache_lookup(task: Any, run: Run, parameters: dict[str, Any]
                  ) -> tuple[tuple[Any, str] | None, State | None]:
    """Where this run's result is cached, (storage, key) or None, and its final Cached state
    when the cache already holds the result. The storage is resolved once per run: a
    "slug/name" reference is a block load."""
    key = _cache_key(task, run, parameters)
    if key is None:
        return None, None
    try:
        storage = caching.resolve_storage(task.result_storage)
        cached = caching.MISS if task.refresh_cache else caching.read_cached(storage, key)
    except Exception as exc:
        logger.warning("Cached result of task %r could not be read (%s: %s); running it.",
                       task.name, type(exc).__name__, exc)
        return None, None
    if cached is caching.MISS:
        return (storage, key), None
    return (storage, key), _finish(task, run, State(StateType.COMPLETED, name="Cached",
                                                    data=cached))


def _write_cache(task: Any, slot: tuple[Any, str] | None, value: Any) -> None:
    if slot is None:
        return
    storage, key = slot
    try:
        caching.write_cached(storage, key, value, task.cache_expiration)
    except Exception as exc:
        logger.warning("Result of task %r was not cached (%s: %s).", task.name,
                       type(exc).__name__, exc)


def run_task(task: Any, args: tuple, kwargs: dict, run: Run | None = None) -> State:
    """Run a sync task to its final state (a crash is re-raised)."""
    run = run or new_run("task", task)
    log_prints = effective_log_prints(task)
    try:
        if has_futures(args) or has_futures(kwargs.values()):
            args, kwargs = resolve_futures(args), resolve_futures(kwargs)
        parameters = record_parameters(task, run, args, kwargs)
    except Exception as exc:
        state = _failed_to_start(task, run, exc)
        call_hooks(task, run, state)
        return state
    tokens = _enter(task, run, None, log_prints, None)
    try:
        state = _task_attempts(task, run, parameters)
    except BaseException as exc:
        _crashed(task, run, exc)
        raise
    finally:
        _exit(tokens)
    call_hooks(task, run, state)
    return state


def _task_attempts(task: Any, run: Run, parameters: dict[str, Any]) -> State:
    slot, cached = _cache_lookup(task, run, parameters)
    if cached is not None:
        return cached
    args, kwargs = _call_fn(task, parameters)
    while True:
        run.attempts += 1
        run.set_state(State(StateType.RUNNING))
        try:
            value = call_with_timeout(task, run, lambda: task.fn(*args, **kwargs))
        except Exception as exc:
            state, delay = after_failure(task, run, exc, _timed_out(run, exc))
            if delay is None:
                return _finish(task, run, state)
            run.set_state(state)
            time.sleep(delay)
            continue
        _write_cache(task, slot, value)
        return _finish(task, run, State(StateType.COMPLETED, data=value))


async def arun_task(task: Any, args: tuple, kwargs: dict, run: Run | None = None) -> State:
    """Run an async task to its final state on the running loop."""
    run = run or new_run("task", task)
    log_prints = effective_log_prints(task)
    try:
        args, kwargs = await aresolve_futures(args), await aresolve_futures(kwargs)
        parameters = record_parameters(task, run, args, kwargs)
    except Exception as exc:
        state = _failed_to_start(task, run, exc)
        await acall_hooks(task, run, state)
        return state
    tokens = _enter(task, run, None, log_prints, None)
    try:
        state = await _atask_attempts(task, run, parameters)
    except BaseException as exc:
        _crashed(task, run, exc)
        raise
    finally:
        _exit(tokens)
    await acall_hooks(task, run, state)
    return state


async def _atask_attempts(task: Any, run: Run, parameters: dict[str, Any]) -> State:
    slot, cached = _cache_lookup(task, run, parameters)
    if cached is not None:
        return cached
    args, kwargs = _call_fn(task, parameters)
    while True:
        run.attempts += 1
        run.set_state(State(StateType.RUNNING))
        try:
            value = await _await_with_timeout(task, run, task.fn(*args, **kwargs))
        except Exception as exc:
            state, delay = after_failure(task, run, exc, _timed_out(run, exc))
            if delay is None:
                return _finish(task, run, state)
            run.set_state(state)
            await asyncio.sleep(delay)
            continue
        _write_cache(task, slot, value)
        return _finish(task, run, State(StateType.COMPLETED, data=value))


async def _await_with_timeout(obj: Any, run: Run, awaitable: Any) -> Any:
    """await awaitable; past timeout_seconds, cancel it and return at once.

    Not asyncio.wait_for: it would label a TimeoutError raised *inside* the awaitable as this
    run's timeout, and it waits for the cancelled work to wind down.
    """
    if obj.timeout_seconds is None:
        return await awaitable
    work = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({work}, timeout=obj.timeout_seconds)
    except asyncio.CancelledError:  # the caller was cancelled: stop the work with it
        work.cancel()
        raise
    if not done:
        work.cancel()
        raise _timeout_error(obj, run)
    return work.result()


# -- flows ---------------------------------------------------------------------------------------

def run_flow(flow: Any, args: tuple, kwargs: dict) -> State:
    """Run a sync flow to its final state (a crash calls on_crashed, then re-raises)."""
    run = new_run("flow", flow)
    try:
        parameters = record_parameters(flow, run, args, kwargs)
    except Exception as exc:
        state = _failed_to_start(flow, run, exc)
        call_hooks(flow, run, state)
        return state
    call_args, call_kwargs = _call_fn(flow, parameters)
    log_prints = effective_log_prints(flow)

    def body() -> Any:
        runner = flow.task_runner.duplicate()
        tokens = _enter(flow, run, runner, log_prints, [])
        try:
            return resolve_futures(flow.fn(*call_args, **call_kwargs))
        finally:
            runner.shutdown(wait=True)
            _exit(tokens)

    while True:
        run.attempts += 1
        run.set_state(State(StateType.RUNNING))
        try:
            value = call_with_timeout(flow, run, body)
        except Exception as exc:
            state, delay = after_failure(flow, run, exc, _timed_out(run, exc))
            if delay is not None:
                run.set_state(state)
                time.sleep(delay)
                continue
        except BaseException as exc:
            state = _crashed(flow, run, exc)
            call_hooks(flow, run, state)
            raise
        else:
            state = State(StateType.COMPLETED, data=value)
        _finish(flow, run, state)
        call_hooks(flow, run, state)
        return state


async def arun_flow(flow: Any, args: tuple, kwargs: dict) -> State:
    """Run an async flow to its final state."""
    run = new_run("flow", flow)
    try:
        parameters = record_parameters(flow, run, args, kwargs)
    except Exception as exc:
        state = _failed_to_start(flow, run, exc)
        await acall_hooks(flow, run, state)
        return state
    call_args, call_kwargs = _call_fn(flow, parameters)
    log_prints = effective_log_prints(flow)

    async def body() -> Any:
        runner = flow.task_runner.duplicate()
        async_tasks: list[asyncio.Task] = []
        tokens = _enter(flow, run, runner, log_prints, async_tasks)
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
            _exit(tokens)

    while True:
        run.attempts += 1
        run.set_state(State(StateType.RUNNING))
        try:
            value = await _await_with_timeout(flow, run, body())
        except Exception as exc:
            state, delay = after_failure(flow, run, exc, _timed_out(run, exc))
            if delay is not None:
                run.set_state(state)
                await asyncio.sleep(delay)
                continue
        except BaseException as exc:
            state = _crashed(flow, run, exc)
            await acall_hooks(flow, run, state)
            raise
        else:
            state = State(StateType.COMPLETED, data=value)
        _finish(flow, run, state)
        await acall_hooks(flow, run, state)
        return state
