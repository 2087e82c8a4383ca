"""Task and flow options: one frozen, checked object, also read and written as attributes."""

from __future__ import annotations

import dataclasses

import pytest

from core_blocks import State, StateType, Task, ThreadPoolTaskRunner, flow, task
from core_blocks.runtime.options import FlowOptions, TaskOptions


def load(x: int = 1) -> int:
    return x


def alert(obj, run, state):
    pass


def test_options_are_one_frozen_object_shown_as_attributes():
    loader = task(retries=2, timeout_seconds=5, tags=["etl"], on_failure=alert)(load)

    assert isinstance(loader.options, TaskOptions)
    assert (loader.name, loader.retries, loader.timeout_seconds) == ("load", 2, 5)
    assert loader.tags == frozenset({"etl"}) and loader.on_failure == (alert,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        loader.options.retries = 3  # type: ignore[misc]


def test_a_flow_has_the_shared_options_and_its_own():
    nightly = flow(retries=1, max_workers=3, on_crashed=alert)(load)
    runner = ThreadPoolTaskRunner(2)

    assert isinstance(nightly.options, FlowOptions) and nightly.retries == 1
    assert nightly.on_crashed == (alert,) and nightly.task_runner.max_workers == 3
    assert flow(task_runner=runner)(load).task_runner is runner
    assert nightly.retry_jitter_factor is None and nightly.retry_condition_fn is None


@pytest.mark.parametrize("make, option", [
    (lambda: task(retires=3)(load), "retires"),
    (lambda: task(on_crashed=alert)(load), "on_crashed"),
    (lambda: task(task_runner=ThreadPoolTaskRunner(2))(load), "task_runner"),
    (lambda: flow(retry_jitter_factor=0.5)(load), "retry_jitter_factor"),
    (lambda: flow(cache_key_fn=alert)(load), "cache_key_fn"),
])
def test_an_option_of_another_kind_or_misspelt_is_refused_by_name(make, option):
    with pytest.raises(TypeError, match=f"unknown option '{option}'; it takes .*retries"):
        make()


def test_the_flow_error_lists_max_workers_too():
    with pytest.raises(TypeError, match="max_workers"):
        flow(workers=2)(load)


def test_with_options_changes_a_copy_and_checks_it():
    loader = task(retries=1, tags=["a"])(load)

    patient = loader.with_options(retries=4, tags=["b"], on_completion=alert)

    assert (patient.retries, patient.tags, patient.on_completion) == (4, {"b"}, (alert,))
    assert (loader.retries, loader.tags, loader.on_completion) == (1, {"a"}, ())
    assert isinstance(patient, Task) and patient.fn is loader.fn
    with pytest.raises(ValueError, match="retries must be a whole number"):
        loader.with_options(retries=-1)
    with pytest.raises(TypeError, match="with_options\\(\\) got an unknown option 'on_crashed'"):
        loader.with_options(on_crashed=alert)


def test_a_flows_with_options_changes_a_copy_that_runs_with_them():
    calls = []

    @flow(name="nightly")
    def nightly():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return "done"

    patient = nightly.with_options(retries=2, name="nightly-patient", on_crashed=alert)

    assert (patient.name, patient.retries, patient.on_crashed) == ("nightly-patient", 2, (alert,))
    assert (nightly.name, nightly.retries, nightly.on_crashed) == ("nightly", 0, ())
    assert patient.task_runner is nightly.task_runner and patient.fn is nightly.fn
    state = patient(return_state=True)
    assert state.type is StateType.COMPLETED and state.result() == "done" and len(calls) == 3
    with pytest.raises(TypeError, match="with_options\\(\\) got an unknown option 'tags'"):
        nightly.with_options(tags=["x"])
    with pytest.raises(ValueError, match="retries must be a whole number"):
        nightly.with_options(retries=-1)


def test_setting_an_attribute_replaces_the_options_the_engine_reads():
    attempts = []

    @task
    def flaky():
        attempts.append(1)
        raise RuntimeError("down")

    flaky.retries = 2
    flaky.name = "renamed"

    assert flaky.options.retries == 2 and flaky.options.name == "renamed"
    assert flaky(return_state=True).is_failed() and len(attempts) == 3
    with pytest.raises(ValueError, match="timeout_seconds must be > 0"):
        flaky.timeout_seconds = 0


@pytest.mark.parametrize("state_type, hooks", [
    (StateType.COMPLETED, "on_completion"),
    (StateType.FAILED, "on_failure"),
    (StateType.TIMED_OUT, "on_failure"),
    (StateType.CRASHED, "on_crashed"),
    (StateType.CANCELLED, None),
])
def test_hooks_for_each_final_state(state_type, hooks):
    def done(*a):
        pass

    def failed(*a):
        pass

    def crashed(*a):
        pass

    options = FlowOptions(name="f", on_completion=done, on_failure=[failed], on_crashed=crashed)
    expected = {"on_completion": (done,), "on_failure": (failed,), "on_crashed": (crashed,),
                None: ()}[hooks]

    assert options.hooks_for(State(state_type)) == expected
    assert TaskOptions(name="t").hooks_for(State(StateType.CRASHED)) == ()
