"""A run's life around its attempts: created Pending, its arguments recorded, its context
entered, and finished in a final state that is recorded and logged."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from core_blocks.runtime.context import RunContext, current_run
from core_blocks.runtime.history import Run
from core_blocks.runtime.redaction import mask_texts, redact_parameters
from core_blocks.runtime.run_logging import ensure_visible, printing_run, route_prints
from core_blocks.runtime.states import State, StateType
from core_blocks.secret_values import masked_capped

logger = logging.getLogger("core_blocks.runs")

Tokens = tuple[contextvars.Token, contextvars.Token | None]


def new_run(kind: str, obj: Any) -> Run:
    """A Pending run of obj (a Task or Flow) under whatever run is in progress."""
    ensure_visible()
    parent = current_run.get()
    name = obj.options.name
    if kind == "flow":
        flow_name = name
    else:
        flow_name = parent.flow_run.fn_name if parent and parent.flow_run else None
    flow_run = parent.flow_run if parent else None
    run = Run(kind, name, {}, parent_id=parent.run.id if parent else None,
              flow_name=flow_name, flow_run_id=flow_run.id if flow_run else None,
              store=_history_store())
    if parent is not None:
        run.secrets = parent.run.secrets  # an error travels up: mask the whole tree's secrets
    run.set_state(State(StateType.PENDING))
    return run


def _history_store() -> Any:
    get_store = _store_getter()
    try:
        return get_store()
    except Exception as exc:  # a store that cannot open must not stop the run
        logger.warning("Run history is off for this run: %s", exc)
        return None


@functools.cache
def _store_getter() -> Callable[[], Any]:
    # Imported at the first run, not per run: an import statement costs each task 0.5 µs.
    from core_blocks.store import get_store

    return get_store


def bind(obj: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by parameter name, defaults included."""
    try:
        bound = obj.signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{obj.kind.capitalize()} {obj.options.name!r} called with bad "
                        f"arguments: {exc}") from None
    bound.apply_defaults()
    return bound.arguments


def record_parameters(obj: Any, run: Run, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Bind the call's arguments and record them, redacted, on the run."""
    parameters = bind(obj, args, kwargs)
    secrets: set[str | bytes] = set()
    redacted = redact_parameters(parameters, secrets)
    run.secrets.add(secrets)
    run.parameters = mask_texts(redacted, run.secrets)
    return parameters


def call_arguments(obj: Any, parameters: dict[str, Any]) -> tuple[tuple, dict]:
    """Bound parameters back into the args and kwargs to call obj.fn with."""
    bound = inspect.BoundArguments(obj.signature, parameters)  # type: ignore[arg-type]
    return bound.args, bound.kwargs


def failed_to_start(obj: Any, run: Run, exc: Exception) -> State:
    """A run whose arguments could not be bound (or whose input futures failed)."""
    return finish(obj, run, State(StateType.FAILED, message=masked_capped(str(exc), run.secrets),
                                  error=exc))


def finish(obj: Any, run: Run, state: State) -> State:
    """Record the final state and log it (flows at INFO, tasks at DEBUG, failures at ERROR)."""
    run.set_state(state)
    level = logging.INFO if obj.kind == "flow" else logging.DEBUG
    if state.is_failed():
        level = logging.ERROR
    if logger.isEnabledFor(level):
        detail = f": {state.message}" if state.message else "."
        logger.log(level, "%s run %r finished in state %s after %.3f s%s",
                   obj.kind.capitalize(), run.name, state.name, run.duration, detail)
    return state


def crashed(obj: Any, run: Run, exc: BaseException) -> State:
    """Finish a run that a BaseException (cancellation, KeyboardInterrupt…) interrupted."""
    kind = StateType.CANCELLED if isinstance(exc, asyncio.CancelledError) else StateType.CRASHED
    return finish(obj, run, State(kind, message=error_text(run, exc), error=exc))


def error_text(run: Run, exc: BaseException) -> str:
    """"Type: message" for a state: every known secret masked, cut to MAX_TEXT characters."""
    return masked_capped(f"{type(exc).__name__}: {exc}", run.secrets) or ""


def effective_log_prints(obj: Any) -> bool:
    """obj's log_prints, or else the enclosing run's."""
    if obj.options.log_prints is not None:
        return obj.options.log_prints
    parent = current_run.get()
    return bool(parent and parent.log_prints)


def enter(obj: Any, run: Run, runner: Any, log_prints: bool, async_tasks: list | None) -> Tokens:
    """Make run the current run (and, with log_prints, the one prints go to)."""
    parent = current_run.get()
    flow_run = run if obj.kind == "flow" else (parent.flow_run if parent else None)
    if runner is None and parent is not None:
        runner = parent.task_runner
    if async_tasks is None and parent is not None:
        async_tasks = parent.async_tasks
    token = current_run.set(RunContext(run, flow_run, runner, log_prints, async_tasks,
                                        obj.is_async))
    print_token = None
    if log_prints:
        route_prints()
        print_token = printing_run.set(run)
    elif printing_run.get() is not None:
        print_token = printing_run.set(None)
    return token, print_token


def leave(tokens: Tokens) -> None:
    """Undo enter()."""
    token, print_token = tokens
    if print_token is not None:
        printing_run.reset(print_token)
    current_run.reset(token)
