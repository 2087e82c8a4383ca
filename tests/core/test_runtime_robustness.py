"""The runtime under awkward use: nested submits on a full pool, failing helpers, odd arguments,
cancellation, and caches that must not mix up functions."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import subprocess
import sys
import threading
import time
from collections import namedtuple
from dataclasses import dataclass

import pytest

from core_blocks import flow, get_run_context, task, task_input_hash
from core_blocks.runtime import history
from core_blocks.runtime.redaction import REDACTED, redact_parameters
from core_blocks.store import get_store


def run_record(run_id: str) -> dict:
    record = history.get_run(get_store(), run_id)
    assert record is not None
    return record


def finishes_within(seconds: float, fn) -> list:
    """fn() in a daemon thread; [result] if it returned in time, else [] (it hung)."""
    box: list = []
    thread = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    thread.start()
    thread.join(seconds)
    return box


# -- no deadlock on a full pool ------------------------------------------------------------------

def test_a_task_waiting_on_a_task_it_submitted_does_not_deadlock_a_one_thread_pool():
    """The waiting thread runs the queued child itself instead of waiting for a free thread."""
    @task
    def child(x):
        return x * 2

    @task
    def parent(x):
        return child.submit(x).result() + 1

    @flow(max_workers=1)
    def nested():
        return [f.result() for f in parent.map([1, 2, 3])]

    assert finishes_within(10, nested) == [[3, 5, 7]]


def test_the_shared_pool_outside_flows_does_not_deadlock_when_full():
    @task
    def leaf(x):
        return x

    @task
    def branch(x):
        time.sleep(0.05)
        return leaf.submit(x).result()

    got = finishes_within(20, lambda: [f.result() for f in branch.map(range(40))])
    assert got == [list(range(40))]


def test_a_flow_waits_for_tasks_submitted_by_its_tasks():
    """Tasks submitted while the flow is shutting its pool down are still waited for."""
    events: list[str] = []

    @task
    def late():
        time.sleep(0.3)
        events.append("late finished")

    @task
    def spawner():
        late.submit()

    @flow
    def outer():
        spawner.submit()

    outer()
    events.append("flow returned")
    assert events == ["late finished", "flow returned"]


def test_map_over_a_future_waits_for_it():
    @task
    def ids():
        return [1, 2, 3]

    @task
    def double(x):
        return 2 * x

    @flow
    def pipeline():
        return [f.result() for f in double.map(ids.submit())]

    assert pipeline() == [2, 4, 6]


def test_a_crashed_submitted_run_reports_its_state_instead_of_raising():
    @task
    def interrupted():
        raise KeyboardInterrupt

    future = interrupted.submit()
    with pytest.raises(KeyboardInterrupt):
        future.result()
    assert future.state.name == "Crashed"


# -- failing helpers never hide the run's own outcome ---------------------------------------------

def test_a_failing_retry_delay_callable_keeps_the_real_error_and_calls_hooks(caplog):
    seen: list[str] = []

    def broken_delay(attempt):
        raise ZeroDivisionError("delay bug")

    @task(retries=2, retry_delay_seconds=broken_delay,
          on_failure=[lambda obj, run, state: seen.append(state.name)])
    def flaky():
        raise ValueError("the real error")

    with caplog.at_level(logging.ERROR, logger="core_blocks.runs"):
        state = flaky(return_state=True)
    assert state.name == "Failed" and isinstance(state.error, ValueError)
    assert seen == ["Failed"]
    assert "retry_delay_seconds of 'flaky' failed; not retrying" in caplog.text


def test_runs_that_cannot_start_still_call_on_failure():
    """Bad arguments, or a failed upstream future, fail the run and its hooks hear of it."""
    seen: list[tuple[str, str]] = []

    def hook(obj, run, state):
        seen.append((obj.name, state.name))

    @task
    def upstream():
        raise RuntimeError("upstream broke")

    @task(on_failure=[hook])
    def downstream(x):
        return x

    @flow(on_failure=[hook])
    def typed(a: int):
        return a

    @flow
    def chain():
        return downstream(upstream.submit(), return_state=True)

    assert chain().name == "Failed"
    assert typed(1, 2, return_state=True).name == "Failed"
    assert seen == [("downstream", "Failed"), ("typed", "Failed")]


def test_an_async_hook_failing_inside_a_running_loop_is_logged(caplog):
    async def bad_hook(obj, run, state):
        raise RuntimeError("async hook bug")

    @task(on_completion=[bad_hook])
    def quick():
        return 1

    async def main():
        return quick()

    with caplog.at_level(logging.ERROR, logger="core_blocks.runs"):
        assert asyncio.run(main()) == 1
    assert "Hook bad_hook of task run" in caplog.text and "async hook bug" in caplog.text


def test_an_async_hook_run_from_a_running_loop_sees_the_caller_s_context():
    """It runs on a loop of its own in another thread, with the caller's context variables
    (its run, for get_run_logger), not an empty context."""
    marker: contextvars.ContextVar[str | None] = contextvars.ContextVar("marker", default=None)
    seen: list[str | None] = []

    async def hook(obj, run, state):
        seen.append(marker.get())

    @task(on_completion=[hook])
    def quick():
        return 1

    async def main():
        marker.set("the caller's")
        return quick()

    assert asyncio.run(main()) == 1
    assert seen == ["the caller's"]


def test_cancelling_an_awaited_task_with_a_timeout_stops_its_body():
    side_effects: list[str] = []

    @task(timeout_seconds=5)
    async def slow():
        await asyncio.sleep(0.5)
        side_effects.append("body ran to the end")

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(slow(), 0.1)
        await asyncio.sleep(0.7)

    asyncio.run(main())
    assert side_effects == []


# -- what history records -------------------------------------------------------------------------

@dataclass
class Database:
    host: str
    password: str


Login = namedtuple("Login", "user password")


class BrokenRepr:
    def __repr__(self):
        raise AttributeError("not ready")


def test_dataclass_and_namedtuple_fields_are_redacted_by_name():
    recorded = redact_parameters({"db": Database("h", "hunter2"), "login": Login("u", "pw")})
    assert recorded == {"db": {"$type": "Database", "host": "h", "password": REDACTED},
                        "login": {"$type": "Login", "user": "u", "password": REDACTED}}


def test_odd_arguments_are_recorded_without_failing_or_bloating_the_run():
    @task
    def total(xs, conn):
        return len(xs)

    state = total(list(range(100_000)), BrokenRepr(), return_state=True)
    assert state.name == "Completed"
    history.flush()
    recorded = run_record(next(r["id"] for r in history.list_runs(get_store(), kind="task")))
    assert len(recorded["parameters"]["xs"]) == 101
    assert recorded["parameters"]["xs"][-1] == "… 99,900 more"
    assert recorded["parameters"]["conn"] == "<BrokenRepr>"


def test_every_run_records_its_flow_run_even_inside_a_task():
    @task
    def inner():
        return get_run_context().run.id

    @task
    def outer():
        return inner()

    @flow
    def pipeline():
        return get_run_context().run.id, outer()

    flow_id, inner_id = pipeline()
    history.flush()
    record = run_record(inner_id)
    assert record["flow_run_id"] == flow_id and record["parent_id"] != flow_id


def test_run_logs_are_not_doubled_when_logging_is_configured_after_the_first_run(capfd):
    """Our fallback stderr handler steps aside once the root logger has handlers."""
    code = (
        "import logging, sys\n"
        "from core_blocks import flow\n"
        "@flow(log_prints=True)\n"
        "def f():\n    print('hello')\n"
        "f()\n"
        "logging.basicConfig(stream=sys.stderr, format='ROOT %(message)s', level=logging.INFO)\n"
        "f()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    hellos = [line for line in out.stderr.splitlines() if line.endswith("| hello")]
    assert len(hellos) == 2 and hellos[1].startswith("ROOT "), out.stderr


# -- caches never mix up functions ----------------------------------------------------------------

def test_closures_from_one_factory_have_their_own_cache_entries():
    def make(multiplier):
        @task(cache_key_fn=task_input_hash)
        def scale(x):
            return x * multiplier
        return scale

    double, triple = make(2), make(3)
    assert (double(5), triple(5), double(5)) == (10, 15, 10)


CACHED_SCRIPT = """
import sys
from core_blocks import task, task_input_hash

@task(cache_key_fn=task_input_hash)
def load(path):
    print("body ran", file=sys.stderr)
    return {body}

print(load("data.txt"))
"""


def run_script(script) -> tuple[str, bool]:
    """(what it printed, whether the task body ran rather than coming from the cache)."""
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip(), "body ran" in out.stderr


def test_the_same_script_run_twice_is_served_from_the_cache(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(CACHED_SCRIPT.format(body="'parsed as CSV'"))
    assert run_script(script) == ("parsed as CSV", True)
    assert run_script(script) == ("parsed as CSV", False)


def test_a_same_named_task_in_another_script_is_not_served_its_result(tmp_path):
    (tmp_path / "first.py").write_text(CACHED_SCRIPT.format(body="'parsed as CSV'"))
    (tmp_path / "second.py").write_text(CACHED_SCRIPT.format(body="'parsed as JSON'"))
    assert run_script(tmp_path / "first.py") == ("parsed as CSV", True)
    assert run_script(tmp_path / "second.py") == ("parsed as JSON", True)


def test_editing_a_task_invalidates_its_cached_results(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(CACHED_SCRIPT.format(body="'v1'"))
    assert run_script(script) == ("v1", True)
    script.write_text(CACHED_SCRIPT.format(body="str('v1')"))  # same result, new code
    assert run_script(script) == ("v1", True)
