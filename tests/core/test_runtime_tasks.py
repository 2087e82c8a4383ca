"""@task and @flow: decorators, retries and their delays, timeouts and hooks, on the real store."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import typing

import pytest

from core_blocks import (
    Flow,
    RunTimeoutError,
    State,
    StateType,
    Task,
    ThreadPoolTaskRunner,
    exponential_backoff,
    flow,
    get_run_context,
    task,
)
from core_blocks.runtime.attempts import retry_delay


def sample(x: int, tags: list[str] | None = None, *, scale: float = 1.0) -> dict[str, float]:
    """Doc of sample."""
    return {"x": x * scale}


async def asample(x: int, tags: list[str] | None = None, *, scale: float = 1.0
                  ) -> dict[str, float]:
    """Doc of asample."""
    await asyncio.sleep(0)
    return {"x": x * scale}


def call(obj, *args, **kwargs):
    """Call a task or flow, sync or async, and return what the call returns."""
    if obj.is_async:
        return asyncio.run(obj(*args, **kwargs))
    return obj(*args, **kwargs)


def gaps(stamps: list[float]) -> list[float]:
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)]


# -- decorators ---------------------------------------------------------------------------------

@pytest.mark.parametrize("decorator, cls", [(task, Task), (flow, Flow)])
@pytest.mark.parametrize("fn", [sample, asample])
@pytest.mark.parametrize("with_args", [False, True])
def test_decorator_keeps_the_function_identity(decorator, cls, fn, with_args):
    """Bare and called decorators keep __name__, __doc__, signature and type hints."""
    wrapped = decorator(retries=1)(fn) if with_args else decorator(fn)
    assert isinstance(wrapped, cls)
    assert wrapped.__name__ == fn.__name__ == wrapped.name
    assert wrapped.__doc__ == fn.__doc__
    assert inspect.signature(wrapped) == inspect.signature(fn)
    assert typing.get_type_hints(wrapped) == typing.get_type_hints(fn)
    assert wrapped.is_async is inspect.iscoroutinefunction(fn)
    assert wrapped.retries == (1 if with_args else 0)
    assert call(wrapped, 2, scale=3.0) == {"x": 6.0}


def test_name_option_renames_the_run_not_the_function():
    """name= sets the run name; the wrapped function keeps its __name__."""
    named = task(name="renamed")(sample)
    assert named.name == "renamed" and named.__name__ == "sample"
    state = named(1, return_state=True)
    assert state.is_completed() and state.result() == {"x": 1.0}


def test_task_runs_outside_and_inside_a_flow():
    """A task called outside a flow has no parent; inside one its flow run is the parent."""
    seen = []

    @task
    def where(x):
        context = get_run_context()
        seen.append((context.run.kind, context.run.parent_id,
                     context.flow_run.id if context.flow_run else None))
        return x + 1

    @flow
    def outer():
        seen.append(("flow", None, get_run_context().run.id))
        return where(1)

    assert get_run_context() is None
    assert where(1) == 2
    assert outer() == 2
    assert seen[0] == ("task", None, None)
    flow_id = seen[1][2]
    assert seen[2] == ("task", flow_id, flow_id)


def test_async_task_awaited_in_async_flow():
    """An async task is awaited inside an async flow and runs under that flow."""
    @task
    async def fetch(x):
        await asyncio.sleep(0.01)
        return x * 10, get_run_context().run.parent_id

    @flow
    async def pipeline():
        value, parent = await fetch(4)
        return value, parent == get_run_context().run.id

    assert asyncio.run(pipeline()) == (40, True)


def test_bad_arguments_fail_with_the_task_name():
    """Calling with arguments the signature refuses names the task."""
    with pytest.raises(TypeError, match="Task 'sample' called with bad arguments"):
        task(sample)(1, 2, 3)


@pytest.mark.parametrize("make, error", [
    (lambda: task(retries=-1)(sample), ValueError),
    (lambda: task(retries=1.5)(sample), ValueError),
    (lambda: task(timeout_seconds=0)(sample), ValueError),
    (lambda: task(retry_delay_seconds=[1, -1])(sample), ValueError),
    (lambda: task(retry_jitter_factor=-0.1)(sample), ValueError),
    (lambda: task(cache_expiration=60)(sample), TypeError),
    (lambda: task(on_completion=[1])(sample), TypeError),
    (lambda: flow(task_runner=ThreadPoolTaskRunner(2), max_workers=2)(sample), ValueError),
    (lambda: ThreadPoolTaskRunner(max_workers=0), ValueError),
])
def test_bad_options_are_refused_at_decoration(make, error):
    """Invalid options fail when the decorator runs, not at the first call."""
    with pytest.raises(error):
        make()


# -- retries ------------------------------------------------------------------------------------

def flaky(fail_times: int, stamps: list[float], error: type[Exception] = RuntimeError):
    """A function that fails `fail_times` times, recording each attempt's start."""
    def fn():
        stamps.append(time.monotonic())
        if len(stamps) <= fail_times:
            raise error(f"attempt {len(stamps)} failed")
        return len(stamps)
    return fn


def test_retries_makes_retries_plus_one_attempts():
    """retries=2 means three attempts in all; a later success is the result."""
    always: list[float] = []
    state = task(retries=2)(flaky(99, always))(return_state=True)
    assert state.type is StateType.FAILED and len(always) == 3
    assert isinstance(state.error, RuntimeError) and "attempt 3 failed" in state.message
    twice: list[float] = []
    assert task(retries=2)(flaky(2, twice))() == 3
    none: list[float] = []
    assert task(flaky(1, none))(return_state=True).is_failed() and len(none) == 1


@pytest.mark.parametrize("spec, expected", [
    (0.05, [0.05, 0.05, 0.05]),
    ([0.05, 0.15], [0.05, 0.15, 0.15]),  # the last delay repeats
    (lambda attempt: 0.05 * attempt, [0.05, 0.10, 0.15]),
    (exponential_backoff(0.04), [0.04, 0.08, 0.16]),
])
def test_retry_delays_are_waited(spec, expected):
    """retry_delay_seconds as a number, list, callable or exponential_backoff."""
    stamps: list[float] = []
    state = task(retries=3, retry_delay_seconds=spec)(flaky(99, stamps))(return_state=True)
    assert state.is_failed() and len(stamps) == 4
    for waited, delay in zip(gaps(stamps), expected, strict=True):
        assert delay - 0.002 <= waited < delay + 0.25, (gaps(stamps), expected)


def test_async_task_retry_delays_are_waited():
    """An async task sleeps its retry delays on the event loop."""
    stamps: list[float] = []

    @task(retries=2, retry_delay_seconds=[0.05, 0.1])
    async def afflaky():
        stamps.append(time.monotonic())
        if len(stamps) < 3:
            raise RuntimeError("not yet")
        return "ok"

    assert asyncio.run(afflaky()) == "ok"
    waited = gaps(stamps)
    assert 0.048 <= waited[0] < 0.3 and 0.098 <= waited[1] < 0.35


def test_retry_jitter_keeps_delays_within_bounds():
    """With retry_jitter_factor=j each delay d is waited for d to d * (1 + j)."""
    stamps: list[float] = []
    runner = task(retries=3, retry_delay_seconds=0.05, retry_jitter_factor=1.0)(flaky(99, stamps))
    assert runner(return_state=True).is_failed()
    for waited in gaps(stamps):
        assert 0.048 <= waited < 0.1 + 0.25


def test_retry_delay_jitter_bounds_and_spread():
    """retry_delay: within [d, d*(1+j)] every time, and actually spread out."""
    jittered = task(retry_delay_seconds=[2, 4], retry_jitter_factor=0.5)(sample)
    first = [retry_delay(jittered.options, 1) for _ in range(2000)]
    assert all(2 <= d <= 3 for d in first)
    assert min(first) < 2.1 and max(first) > 2.9
    later = [retry_delay(jittered.options, 5) for _ in range(500)]
    assert all(4 <= d <= 6 for d in later)
    plain = task(retry_delay_seconds=exponential_backoff(0.5))(sample)
    assert [retry_delay(plain.options, a) for a in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert retry_delay(task(retry_delay_seconds=[])(sample).options, 1) == 0.0
    with pytest.raises(ValueError, match="backoff_factor"):
        exponential_backoff(-1)


def test_retry_condition_fn_decides_whether_to_retry():
    """retry_condition_fn(task, run, state) can refuse to retry some errors."""
    seen = []

    def not_value_errors(obj, run, state):
        seen.append((obj.name, run.attempts, state.type, type(state.error)))
        return not isinstance(state.error, ValueError)

    value_stamps: list[float] = []
    picky = task(retries=3, retry_condition_fn=not_value_errors)
    state = picky(flaky(99, value_stamps, ValueError))(return_state=True)
    assert state.type is StateType.FAILED and len(value_stamps) == 1
    assert seen == [("fn", 1, StateType.FAILED, ValueError)]
    other: list[float] = []
    assert picky(flaky(2, other, RuntimeError))() == 3 and len(other) == 3


def test_retry_condition_fn_that_raises_stops_retrying(caplog):
    """A broken retry_condition_fn is logged and the run fails without retrying."""
    stamps: list[float] = []

    def broken(obj, run, state):
        raise RuntimeError("condition bug")

    state = task(retries=2, retry_condition_fn=broken)(flaky(99, stamps))(return_state=True)
    assert state.is_failed() and len(stamps) == 1
    assert any("retry_condition_fn" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("is_async", [False, True])
def test_flow_retries(is_async):
    """A flow retries as a whole after its retry delay."""
    stamps: list[float] = []

    def body():
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            raise RuntimeError("first try fails")
        return "done"

    if is_async:
        async def pipeline():
            return body()
    else:
        def pipeline():
            return body()

    retried = flow(retries=1, retry_delay_seconds=0.05)(pipeline)
    assert call(retried) == "done" and len(stamps) == 2
    assert 0.048 <= gaps(stamps)[0] < 0.3
    stamps.clear()
    with pytest.raises(RuntimeError, match="first try fails"):
        call(flow(pipeline))


# -- timeouts -----------------------------------------------------------------------------------

def sleeper(decorator, is_async, seconds=1.5, **options):
    if is_async:
        async def sleepy():
            await asyncio.sleep(seconds)
            return "late"
    else:
        def sleepy():
            time.sleep(seconds)
            return "late"
    return decorator(**options)(sleepy)


@pytest.mark.parametrize("decorator", [task, flow])
@pytest.mark.parametrize("is_async", [False, True])
def test_timeout_ends_the_run_timed_out_promptly(decorator, is_async):
    """timeout_seconds: final state TimedOut with a clear RunTimeoutError, returned at once."""
    slow = sleeper(decorator, is_async, timeout_seconds=0.2)
    started = time.monotonic()
    state = call(slow, return_state=True)
    assert time.monotonic() - started < 0.8
    assert state.type is StateType.TIMED_OUT and state.is_failed()
    assert isinstance(state.error, RunTimeoutError) and isinstance(state.error, TimeoutError)
    text = str(state.error)
    assert "run 'sleepy-" in text and "exceeded timeout_seconds=0.2" in text
    assert "Raise timeout_seconds" in text
    started = time.monotonic()
    with pytest.raises(RunTimeoutError, match=r"exceeded timeout_seconds=0\.2"):
        call(slow)
    assert time.monotonic() - started < 0.8


def test_timed_out_attempts_are_retried():
    """Each attempt gets its own timeout; retries apply to timeouts too."""
    calls = []

    @task(timeout_seconds=0.1, retries=1)
    def slow():
        calls.append(1)
        time.sleep(1)

    started = time.monotonic()
    state = slow(return_state=True)
    assert state.type is StateType.TIMED_OUT and len(calls) == 2
    assert time.monotonic() - started < 0.6


@pytest.mark.parametrize("is_async", [False, True])
def test_timeout_error_raised_by_the_function_is_a_plain_failure(is_async):
    """A TimeoutError the function raises itself (a socket, say) is not the run's timeout."""
    def body():
        raise TimeoutError("upstream did not answer")

    if is_async:
        async def fetch():
            body()
    else:
        def fetch():
            body()

    state = call(task(timeout_seconds=5)(fetch), return_state=True)
    assert state.type is StateType.FAILED, state
    assert not isinstance(state.error, RunTimeoutError)
    assert "upstream did not answer" in state.message


@pytest.mark.parametrize("is_async", [False, True])
def test_a_nested_task_timeout_fails_the_flow_without_timing_it_out(is_async):
    """A task's timeout inside a flow with a generous timeout makes the flow Failed, not
    TimedOut, and the error names the task."""
    slow = sleeper(task, is_async, seconds=1.0, timeout_seconds=0.1)
    if is_async:
        async def outer():
            await slow()
    else:
        def outer():
            slow()

    started = time.monotonic()
    state = call(flow(timeout_seconds=5)(outer), return_state=True)
    assert time.monotonic() - started < 0.8
    assert state.type is StateType.FAILED, state
    assert "Task run 'sleepy-" in str(state.error)


@pytest.mark.parametrize("is_async", [False, True])
def test_flow_timeout_returns_promptly_with_submitted_tasks_running(is_async):
    """A flow that times out returns at its timeout even if its submitted tasks still run."""
    slow = sleeper(task, is_async, seconds=1.5)
    if is_async:
        async def outer():
            slow.submit()
            await asyncio.sleep(3)
    else:
        def outer():
            slow.submit()
            time.sleep(3)

    started = time.monotonic()
    state = call(flow(timeout_seconds=0.2)(outer), return_state=True)
    elapsed = time.monotonic() - started
    assert state.type is StateType.TIMED_OUT
    assert elapsed < 0.8, f"flow with timeout_seconds=0.2 returned after {elapsed:.2f} s"


# -- hooks --------------------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, obj, run, state):
        self.calls.append((obj, run, state))

    @property
    def types(self):
        return [state.type for _, _, state in self.calls]


def test_task_hooks_get_task_run_and_state():
    """on_completion / on_failure of a task get (task, run, state) with the final state."""
    done, failed = Recorder(), Recorder()

    @task(on_completion=done, on_failure=failed)
    def maybe(fail: bool):
        if fail:
            raise ValueError("nope")
        return "yes"

    assert maybe(False) == "yes"
    with pytest.raises(ValueError, match="nope"):
        maybe(True)
    assert done.types == [StateType.COMPLETED] and failed.types == [StateType.FAILED]
    obj, run, state = done.calls[0]
    assert obj is maybe and run.kind == "task" and run.fn_name == "maybe"
    assert state is run.state and state.result() == "yes" and run.ended is not None
    assert isinstance(failed.calls[0][2].error, ValueError)


def test_timed_out_task_calls_on_failure():
    """A TimedOut run is a failure for hooks."""
    done, failed = Recorder(), Recorder()
    slow = sleeper(task, False, seconds=0.6, timeout_seconds=0.1, on_completion=done,
                   on_failure=failed)
    assert slow(return_state=True).type is StateType.TIMED_OUT
    assert failed.types == [StateType.TIMED_OUT] and done.calls == []


@pytest.mark.parametrize("is_async", [False, True])
def test_flow_completion_and_failure_hooks(is_async):
    """Flow hooks get (flow, flow run, state); a failed task fails the flow's hooks' state."""
    done, failed = Recorder(), Recorder()

    def body(fail):
        if fail:
            raise KeyError("missing")
        return get_run_context().run.id

    if is_async:
        async def job(fail: bool):
            return body(fail)
    else:
        def job(fail: bool):
            return body(fail)

    job_flow = flow(on_completion=done, on_failure=failed)(job)
    run_id = call(job_flow, False)
    with pytest.raises(KeyError):
        call(job_flow, True)
    assert done.types == [StateType.COMPLETED] and failed.types == [StateType.FAILED]
    obj, run, state = done.calls[0]
    assert obj is job_flow and run.kind == "flow" and run.id == run_id
    assert state.result() == run_id
    assert isinstance(failed.calls[0][2].error, KeyError)


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("is_async", [False, True])
def test_on_crashed_flow_hook_then_reraise(interrupt, is_async):
    """KeyboardInterrupt / SystemExit in a flow: on_crashed runs (Crashed), then it re-raises."""
    crashed, failed = Recorder(), Recorder()
    if is_async:
        async def doomed():
            raise interrupt()
    else:
        def doomed():
            raise interrupt()

    doomed = flow(on_crashed=crashed, on_failure=failed)(doomed)
    with pytest.raises(interrupt):
        call(doomed)
    assert crashed.types == [StateType.CRASHED] and failed.calls == []
    obj, run, state = crashed.calls[0]
    assert obj is doomed and run.state.type is StateType.CRASHED
    assert state.message.startswith(interrupt.__name__)


def test_on_crashed_when_a_task_crashes_the_flow():
    """A task interrupted by SystemExit crashes its flow; the flow's on_crashed runs."""
    crashed = Recorder()

    @task
    def exits():
        raise SystemExit(3)

    @flow(on_crashed=crashed)
    def outer():
        exits()

    with pytest.raises(SystemExit):
        outer()
    assert crashed.types == [StateType.CRASHED]


def test_failing_hook_is_logged_and_masks_nothing(caplog):
    """A hook that raises is logged; the result or error of the run stands, other hooks run."""
    caplog.set_level(logging.INFO, logger="core_blocks.runs")
    after = Recorder()

    def broken_hook(obj, run, state):
        raise RuntimeError("hook bug")

    @task(on_completion=[broken_hook, after], on_failure=broken_hook)
    def job(fail: bool):
        if fail:
            raise ValueError("the real error")
        return 42

    @flow(on_completion=broken_hook, on_failure=broken_hook)
    def outer(fail: bool):
        return job(fail)

    assert job(False) == 42 and after.types == [StateType.COMPLETED]
    with pytest.raises(ValueError, match="the real error"):
        job(True)
    assert outer(False) == 42
    with pytest.raises(ValueError, match="the real error"):
        outer(True)
    logged = [r for r in caplog.records if "broken_hook" in r.getMessage()]
    assert len(logged) == 6  # job twice alone, then job and outer in each flow run
    assert all(r.levelno == logging.ERROR and r.exc_info for r in logged)
    assert "RuntimeError: hook bug" in caplog.text
    assert any("stays Failed" in r.getMessage() for r in logged)


def test_async_hooks_are_awaited():
    """An async hook is awaited, from sync and async runs."""
    seen = []

    async def ahook(obj, run, state):
        await asyncio.sleep(0)
        seen.append((obj.kind, state.type))

    @task(on_completion=ahook)
    def sync_job():
        return 1

    @flow(on_completion=ahook)
    async def async_job():
        return 2

    assert sync_job() == 1 and asyncio.run(async_job()) == 2
    assert seen == [("task", StateType.COMPLETED), ("flow", StateType.COMPLETED)]


def test_state_result_raises_or_returns_the_error():
    """State.result re-raises the error; raise_on_failure=False returns it."""
    @task
    def boom():
        raise LookupError("x")

    state = boom(return_state=True)
    assert isinstance(state, State) and state.is_final and not state.is_completed()
    assert isinstance(state.result(raise_on_failure=False), LookupError)
    with pytest.raises(LookupError):
        state.result()
