"""A run's attempts: decide(), what one attempt's outcome leads to (nothing is run), and the
drivers that act on it."""

from __future__ import annotations

import logging
import time

import pytest

from core_blocks import RunTimeoutError, StateType, flow
from core_blocks.runtime.attempts import Finish, Retry, decide
from core_blocks.runtime.options import FlowOptions, TaskOptions


def options(**given) -> TaskOptions:
    return TaskOptions(name="load", **given)


def test_success_finishes_completed_with_the_value():
    decision = decide(options(retries=3), 1, {"rows": 2})

    assert isinstance(decision, Finish) and decision.broken_option is None
    assert decision.state.type is StateType.COMPLETED
    assert decision.state.result() == {"rows": 2}


def test_failure_with_retries_left_retries_after_the_delay():
    error = RuntimeError("down")
    decision = decide(options(retries=2, retry_delay_seconds=[0.5, 4]), 2, error=error)

    assert decision == Retry(4.0, decision.state, "RuntimeError: down")
    assert decision.state.type is StateType.RETRYING
    assert decision.state.message == "RuntimeError: down; retrying in 4 s"
    assert decision.state.data == 4.0


def test_failure_when_retries_are_used_up_finishes_failed():
    error = RuntimeError("down")
    decision = decide(options(retries=2), 3, error=error, message="RuntimeError: d***")

    assert isinstance(decision, Finish) and decision.broken_option is None
    assert decision.state.type is StateType.FAILED
    assert decision.state.error is error
    assert decision.state.message == "RuntimeError: d***"  # the caller's masked text, as given


def test_retry_condition_fn_saying_no_finishes_failed():
    seen = []

    def only_os_errors(obj, run, state):
        seen.append((obj, run, state.type, state.message))
        return isinstance(state.error, OSError)

    picky = options(retries=5, retry_condition_fn=only_os_errors)

    refused = decide(picky, 1, error=ValueError("bad row"), obj="the task", run="the run")
    retried = decide(picky, 1, error=OSError("reset"), obj="the task", run="the run")

    assert isinstance(refused, Finish) and refused.state.type is StateType.FAILED
    assert refused.broken_option is None
    assert isinstance(retried, Retry)
    assert seen[0] == ("the task", "the run", StateType.FAILED, "ValueError: bad row")


@pytest.mark.parametrize("option", ["retry_condition_fn", "retry_delay_seconds"])
def test_an_option_callable_that_raises_finishes_failed_and_is_named(option):
    bug = ZeroDivisionError("option bug")

    def broken(*args):
        raise bug

    decision = decide(options(retries=3, **{option: broken}), 1, error=RuntimeError("down"))

    assert isinstance(decision, Finish)
    assert decision.state.type is StateType.FAILED
    assert decision.state.message == "RuntimeError: down"
    assert (decision.broken_option, decision.option_error) == (option, bug)


def test_timeout_finishes_timed_out_or_retries_like_a_failure():
    error = RuntimeError("Task run 'load' exceeded timeout_seconds=1.")

    last = decide(options(retries=1), 2, error=error, timed_out=True)
    earlier = decide(options(retries=1, retry_delay_seconds=2), 1, error=error, timed_out=True)

    assert isinstance(last, Finish) and last.state.type is StateType.TIMED_OUT
    assert last.state.is_failed()
    assert isinstance(earlier, Retry) and earlier.delay == 2.0
    assert earlier.state.message.endswith("; retrying in 2 s")


def test_jitter_keeps_each_delay_within_delay_to_delay_times_one_plus_factor():
    jittered = options(retries=9, retry_delay_seconds=[2, 4], retry_jitter_factor=0.5)

    first = [decide(jittered, 1, error=OSError()).delay for _ in range(2000)]
    later = [decide(jittered, 7, error=OSError()).delay for _ in range(500)]

    assert all(2 <= d <= 3 for d in first) and min(first) < 2.1 and max(first) > 2.9
    assert all(4 <= d <= 6 for d in later)


def test_a_flow_retries_on_the_same_policy_without_jitter_or_condition():
    flow_options = FlowOptions(name="nightly", retries=1, retry_delay_seconds=1.5)

    assert decide(flow_options, 1, error=OSError("x")).delay == 1.5
    assert decide(flow_options, 2, error=OSError("x")).state.type is StateType.FAILED


def test_deciding_waits_for_nothing_and_logs_nothing(caplog):
    hooked = []
    hourly = options(retries=1, retry_delay_seconds=3600,
                     on_failure=lambda *args: hooked.append(args))

    with caplog.at_level(logging.DEBUG):
        started = time.monotonic()
        decision = decide(hourly, 1, error=RunTimeoutError("slow"), timed_out=True)

    assert decision.delay == 3600 and time.monotonic() - started < 0.5
    assert caplog.records == [] and hooked == []


def test_a_crash_between_a_flows_attempts_finishes_it_crashed_and_calls_on_crashed():
    """A BaseException while choosing the retry delay ends the flow Crashed, as in a task."""
    crashes = []

    def interrupted(attempt):
        raise KeyboardInterrupt

    @flow(retries=1, retry_delay_seconds=interrupted,
          on_crashed=lambda flow_, run, state: crashes.append(state.type))
    def nightly():
        raise RuntimeError("first try fails")

    with pytest.raises(KeyboardInterrupt):
        nightly()
    assert crashes == [StateType.CRASHED]
