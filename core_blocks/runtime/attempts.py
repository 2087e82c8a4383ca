"""A run's attempts, for tasks and flows alike.

`decide` is the whole retry policy: what one attempt's outcome leads to, without I/O,
sleeping or hooks. `attempt` and `aattempt` act on it (call, record states, log, sleep), and
`settle` and `asettle` end a run with its hooks; each loop is written once per sync/async.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from core_blocks.runtime.history import Run
from core_blocks.runtime.hooks import acall_hooks, call_hooks
from core_blocks.runtime.options import RunOptions
from core_blocks.runtime.run_lifecycle import crashed, error_text, finish
from core_blocks.runtime.states import State, StateType
from core_blocks.runtime.timeouts import await_with_timeout, call_with_timeout, timed_out

logger = logging.getLogger("core_blocks.runs")


class Retry(NamedTuple):
    """Wait `delay` seconds in `state` (Retrying), then attempt again."""

    delay: float
    state: State
    reason: str  # the failed attempt's message


class Finish(NamedTuple):
    """End the run in `state`."""

    state: State
    broken_option: str | None = None  # an option's callable that raised, so no retry
    option_error: Exception | None = None  # what it raised


# -- the decision --------------------------------------------------------------------------------

def decide(options: RunOptions, attempt: int, value: Any = None, error: Exception | None = None,
           *, timed_out: bool = False, message: str | None = None, obj: Any = None,
           run: Any = None) -> Retry | Finish:
    """What attempt number `attempt` (1 = the first try) leads to, given how it ended.

    It returned `value` (error None) or raised `error`; `timed_out` when that error is the
    run's own timeout. `message` is the error as the state shows it (the caller masks
    secrets; default "Type: text"); `obj` and `run` are what retry_condition_fn receives.
    The option callables (retry_condition_fn, retry_delay_seconds) are called here; one that
    raises ends the run, named in the Finish for the caller to log.

    >>> decide(RunOptions(name="t", retries=1), 1, error=OSError("down")).delay
    0.0
    """
    if error is None:
        return Finish(State(StateType.COMPLETED, data=value))
    if message is None:
        message = f"{type(error).__name__}: {error}"
    failed = State(StateType.TIMED_OUT if timed_out else StateType.FAILED, message=message,
                   error=error)
    if attempt > options.retries:
        return Finish(failed)
    condition = options.retry_condition_fn
    if condition is not None:
        try:
            if not condition(obj, run, failed):
                return Finish(failed)
        except Exception as exc:
            return Finish(failed, "retry_condition_fn", exc)
    try:
        delay = retry_delay(options, attempt)
    except Exception as exc:
        return Finish(failed, "retry_delay_seconds", exc)
    return Retry(delay, State(StateType.RETRYING, message=f"{message}; retrying in {delay:.3g} s",
                              data=delay), message)


def retry_delay(options: RunOptions, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 = the first try)."""
    spec = options.retry_delay_seconds
    if callable(spec):
        delay = float(spec(attempt))
    elif isinstance(spec, (list, tuple)):
        delay = float(spec[min(attempt, len(spec)) - 1]) if spec else 0.0
    else:
        delay = float(spec or 0)
    if options.retry_jitter_factor:
        delay += random.uniform(0, delay * options.retry_jitter_factor)  # [d, d * (1 + j)]
    return max(delay, 0.0)


# -- the drivers ---------------------------------------------------------------------------------

def attempt(obj: Any, run: Run, call: Callable[[], Any],
            on_success: Callable[[Any], None] | None = None) -> State:
    """Attempt call() until decide() finishes the run; return its final state, recorded.

    on_success(value) runs before a completed run is finished (a task stores its result).
    """
    options = obj.options
    while True:
        run.attempts += 1
        run.set_state(State(StateType.RUNNING))
        try:
            value = call_with_timeout(obj, run, call)
        except Exception as exc:
            decision = _after_failure(obj, run, exc)
        else:
            decision = decide(options, run.attempts, value)
            if on_success is not None:
                on_success(value)
        if isinstance(decision, Finish):
            return finish(obj, run, decision.state)
        run.set_state(decision.state)
        time.sleep(decision.delay)


async def aattempt(obj: Any, run: Run, call: Callable[[], Awaitable[Any]],
                   on_success: Callable[[Any], None] | None = None) -> State:
    """attempt() for async work: call() makes each attempt's awaitable."""
    options = obj.options
    while True:
        run.attempts += 1
        run.set_state(State(StateType.RUNNING))
        try:
            value = await await_with_timeout(obj, run, call())
        except Exception as exc:
            decision = _after_failure(obj, run, exc)
        else:
            decision = decide(options, run.attempts, value)
            if on_success is not None:
                on_success(value)
        if isinstance(decision, Finish):
            return finish(obj, run, decision.state)
        run.set_state(decision.state)
        await asyncio.sleep(decision.delay)


def _after_failure(obj: Any, run: Run, exc: Exception) -> Retry | Finish:
    decision = decide(obj.options, run.attempts, error=exc, timed_out=timed_out(run, exc),
                      message=error_text(run, exc), obj=obj, run=run)
    if isinstance(decision, Retry):
        logger.warning("%s run %r attempt %d of %d failed (%s); retrying in %.3g s.",
                       obj.kind.capitalize(), run.name, run.attempts, obj.options.retries + 1,
                       decision.reason, decision.delay)
    elif decision.broken_option is not None:
        logger.error("%s of %r failed; not retrying.", decision.broken_option, obj.options.name,
                     exc_info=decision.option_error)
    return decision


def settle(obj: Any, run: Run, work: Callable[..., State], *args: Any) -> State:
    """work(*args) to a final state, then the hooks for it.

    A BaseException (KeyboardInterrupt, SystemExit) finishes the run Crashed, calls its
    crash hooks (flows' on_crashed) and is re-raised.
    """
    try:
        state = work(*args)
    except BaseException as exc:
        state = crashed(obj, run, exc)
        call_hooks(obj, run, state)
        raise
    call_hooks(obj, run, state)
    return state


async def asettle(obj: Any, run: Run, work: Awaitable[State]) -> State:
    """settle() for async work; a cancellation finishes the run Cancelled."""
    try:
        state = await work
    except BaseException as exc:
        state = crashed(obj, run, exc)
        await acall_hooks(obj, run, state)
        raise
    await acall_hooks(obj, run, state)
    return state
