"""DaskTaskRunner runs a flow's tasks on Dask worker processes, and they behave as on the thread
pool: futures, wait, map, retries, timeouts, caching, concurrency limits, hooks, states, sync
and async tasks, and a Dask client inside a task."""

from __future__ import annotations

import asyncio
import os
import re
import time

import pytest

from core_blocks import concurrency, flow, task
from core_blocks.runtime.concurrency import set_limit
from core_blocks.store import get_store
from core_blocks.tasks import task_input_hash
from prefect_dask import DaskTaskRunner, get_async_dask_client, get_dask_client


@task
def whereabouts(x: int) -> tuple[int, int]:
    return x * 2, os.getpid()


def test_submit_and_map_run_on_worker_processes(runner):
    @flow(task_runner=runner)
    def fan_out():
        mapped = whereabouts.map([1, 2, 3, 4])
        single = whereabouts.submit(10)
        return [f.result() for f in mapped], single.result()

    mapped, single = fan_out()

    assert [value for value, _ in mapped] == [2, 4, 6, 8] and single[0] == 20
    pids = {pid for _, pid in mapped} | {single[1]}
    assert os.getpid() not in pids


def test_futures_as_arguments_and_wait(runner):
    @task
    def add(a: int, b: int) -> int:
        return a + b

    @flow(task_runner=runner)
    def chain():
        first = add.submit(1, 2)
        second = add.submit(first, 10)  # waits for first, off the flow's thread
        second.wait()
        return second.done(), second.state.name, second.result()

    assert chain() == (True, "Completed", 13)


def test_retries_then_the_final_state_and_error(runner, tmp_path):
    counter = tmp_path / "attempts"

    @task(retries=2, retry_delay_seconds=0)
    def flaky() -> int:
        seen = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(seen + 1))
        if seen < 2:
            raise ConnectionError(f"try {seen}")
        return seen

    @task
    def broken() -> None:
        raise ValueError("bad row 7")

    @flow(task_runner=runner)
    def pipeline():
        ok, bad = flaky.submit(), broken.submit()
        bad.wait()
        return ok.result(), ok.run.attempts, bad.state

    value, attempts, bad_state = pipeline()

    assert (value, attempts) == (2, 3)
    assert bad_state.name == "Failed" and bad_state.message == "ValueError: bad row 7"
    with pytest.raises(ValueError, match="bad row 7"):
        bad_state.result()


def test_timeout_ends_the_run_timed_out(runner):
    @task(timeout_seconds=0.5)
    def slow() -> None:
        time.sleep(5)

    @flow(task_runner=runner)
    def waits():
        future = slow.submit()
        future.wait()
        return future.state

    started = time.monotonic()
    state = waits()

    assert state.name == "TimedOut" and "timeout_seconds=0.5" in state.message
    assert time.monotonic() - started < 4


def test_cached_results_are_served_across_workers(runner, tmp_path):
    marker = tmp_path / "calls"

    @task(cache_key_fn=task_input_hash)
    def expensive(x: int) -> int:
        with marker.open("a") as out:
            out.write("call\n")
        return x + 1

    @flow(task_runner=runner)
    def twice():
        first = expensive.submit(41).result()
        second = expensive.submit(41)
        return first, second.result(), second.state.name

    assert twice() == (42, 42, "Cached")
    assert marker.read_text().count("call") == 1


def test_a_concurrency_limit_holds_across_worker_processes(runner, tmp_path):
    set_limit(get_store(), "warehouse", 1)

    @task
    def load(n: int) -> tuple[float, float]:
        with concurrency("warehouse", occupy=1):
            started = time.time()
            time.sleep(0.4)
            return started, time.time()

    @flow(task_runner=runner)
    def loads():
        return [f.result() for f in load.map(range(3))]

    spans = sorted(loads())

    assert all(later[0] >= earlier[1] - 0.01 
               for earlier, later in zip(spans, spans[1:], strict=False))


def test_hooks_run_with_the_final_state(runner, tmp_path):
    log = tmp_path / "hooks"

    def on_done(task_, run, state):
        with log.open("a") as out:
            out.write(f"{run.name.split('-')[0]} {state.name}\n")

    @task(on_completion=[on_done], on_failure=[on_done])
    def maybe(ok: bool) -> None:
        if not ok:
            raise RuntimeError("no")

    @flow(task_runner=runner)
    def both():
        for f in [maybe.submit(True), maybe.submit(False)]:
            f.wait()

    both()

    assert sorted(log.read_text().splitlines()) == ["maybe Completed", "maybe Failed"]


def test_async_tasks_run_on_workers_from_async_and_sync_flows(runner):
    @task
    async def ping(x: int) -> tuple[int, int]:
        await asyncio.sleep(0.01)
        return x, os.getpid()

    @flow(task_runner=runner)
    async def async_flow():
        futures = [ping.submit(i) for i in range(3)]
        return [await f for f in futures]

    @flow(task_runner=runner.duplicate())
    def sync_flow():
        return ping.submit(7).result()

    results = asyncio.run(async_flow())
    value, pid = sync_flow()

    assert [x for x, _ in results] == [0, 1, 2] and (value, pid != os.getpid()) == (7, True)
    assert os.getpid() not in {p for _, p in results}


def test_get_dask_client_inside_tasks_reaches_the_cluster(runner, dask_cluster):
    def square(x: int) -> int:
        return x * x

    @task
    def spread() -> tuple[list[int], str]:
        with get_dask_client() as client:
            return client.gather(client.map(square, [1, 2, 3])), client.scheduler.address

    @task
    async def aspread() -> int:
        async with get_async_dask_client() as client:
            return await client.submit(square, 9)

    @flow(task_runner=runner)
    def uses_dask():
        return spread.submit().result(), aspread.submit().result()

    (squares, address), nine = uses_dask()

    assert squares == [1, 4, 9] and nine == 81
    assert address == dask_cluster.scheduler_address


def test_default_runner_starts_and_closes_a_temporary_local_cluster():
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 1, "threads_per_worker": 1,
                                            "dashboard_address": "127.0.0.1:0"})

    @flow(task_runner=runner)
    def temporary():
        from core_blocks.runtime.context import get_run_context

        client = get_run_context().task_runner.client
        return whereabouts.submit(3).result(), client.scheduler.address

    (value, pid), address = temporary()

    assert value == 6 and pid != os.getpid() and address.startswith("tcp://127.0.0.1:")


# The default dashboard port, as prefect-dask's: Dask moves to a free one when it is taken.
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_a_temporary_cluster_and_its_dashboard_listen_on_loopback_only():
    import psutil

    @flow(task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 1, "threads_per_worker": 1}))
    def listening():
        from urllib.parse import urlsplit

        from core_blocks.runtime.context import get_run_context

        client = get_run_context().task_runner.client
        ports = {urlsplit(client.scheduler.address).port, urlsplit(client.dashboard_link).port}
        listeners = {(c.laddr.ip, c.laddr.port) for c in psutil.net_connections(kind="tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port in ports}
        return whereabouts.submit(1).result(), ports, listeners

    _, ports, listeners = listening()

    assert {port for _, port in listeners} == ports, listeners
    assert {ip for ip, _ in listeners} == {"127.0.0.1"}, listeners


@pytest.mark.parametrize(("keywords", "message"), [
    ({"address": "tcp://127.0.0.1:8786", "cluster_kwargs": {"n_workers": 1}},
     "either address (a running scheduler) or cluster"),
    ({"cluster_kwargs": {"asynchronous": True}}, "cluster_kwargs cannot set 'asynchronous'"),
    ({"cluster_class": "distributed.NoSuchCluster"}, "cluster_class 'distributed.NoSuchCluster' "
                                                     "could not be imported"),
])
def test_bad_keywords_are_refused_with_the_fix(keywords, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        DaskTaskRunner(**keywords)


def test_cluster_class_by_dotted_path_and_duplicate_keep_the_settings():
    from distributed import LocalCluster

    runner = DaskTaskRunner(cluster_class="distributed.LocalCluster",
                            cluster_kwargs={"n_workers": 1}, adapt_kwargs={"maximum": 2})

    assert runner.cluster_class is LocalCluster
    assert runner.duplicate() == runner and runner.duplicate() is not runner


def test_tasks_of_a_cancelled_async_flow_end_cancelled(runner):
    """As on the thread pool: the flow times out, its Dask tasks (running or queued) end
    Cancelled, and an async one running on a worker stops there rather than running on."""
    from core_blocks.runtime.context import get_run_context
    from core_blocks.runtime.history import flush, get_run

    ids: dict[str, str] = {}

    @task
    async def nap(n: int) -> int:
        await asyncio.sleep(30)
        return n

    @flow(task_runner=runner, timeout_seconds=1)
    async def impatient():
        ids["flow"] = get_run_context().run.id
        futures = [nap.submit(n) for n in range(6)]  # 4 run on the 4 worker threads, 2 queue
        ids.update({f"nap-{n}": f.task_run_id for n, f in enumerate(futures)})
        return [await f for f in futures]

    started = time.monotonic()
    assert asyncio.run(impatient(return_state=True)).name == "TimedOut"
    flush()
    task_ids = [v for k, v in ids.items() if k != "flow"]
    deadline = time.monotonic() + 10
    while True:  # the workers' own Cancelled states reach the store a moment later
        runs = [get_run(get_store(), run_id) for run_id in task_ids]
        if all(r["state"] == "Cancelled" for r in runs) or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    assert [r["state"] for r in runs] == ["Cancelled"] * 6
    assert {r["error_type"] for r in runs} == {"CancelledError"}
    assert {r["parent_id"] for r in runs} == {ids["flow"]}
    assert time.monotonic() - started < 15  # nobody slept the 30 s


def test_a_sync_task_that_runs_on_past_its_cancelled_flow_stays_cancelled(runner, dask_cluster,
                                                                           tmp_path):
    """A sync task cannot be stopped: it runs to its end on the worker after its flow timed out,
    and that end does not replace the Cancelled the flow recorded for it."""
    from distributed import Client

    from core_blocks.runtime import history

    finished = tmp_path / "finished"
    ids: dict[str, str] = {}

    @task
    def doze() -> int:
        time.sleep(3)
        finished.write_text("done")
        return 1

    @flow(task_runner=runner, timeout_seconds=1)
    async def impatient():
        future = doze.submit()
        ids["doze"] = future.task_run_id
        return future  # the flow waits for it, and times out first

    assert asyncio.run(impatient(return_state=True)).name == "TimedOut"
    history.flush()
    assert history.get_run(get_store(), ids["doze"])["state"] == "Cancelled"
    deadline = time.monotonic() + 15
    while not finished.exists():  # the worker's thread sleeps on
        assert time.monotonic() < deadline, "the sync task never finished on its worker"
        time.sleep(0.1)
    time.sleep(0.5)  # its Completed is recorded right after the body returns
    with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        client.run(history.flush)  # each worker's history writer has written what it had

    run = history.get_run(get_store(), ids["doze"])
    assert run["state"] == "Cancelled" and run["error_type"] == "CancelledError"
    assert [s["state"] for s in run["states"]][-1] == "Cancelled"
    assert "Completed" not in [s["state"] for s in run["states"]]


def test_a_run_whose_worker_ended_it_before_the_cancel_keeps_that_end_in_the_flow_too():
    """The flow gives up on a run its worker has just finished: the store keeps the worker's
    end (the first), and the flow takes that end rather than a Cancelled the store refused."""
    import concurrent.futures

    from core_blocks.runtime import engine, history
    from core_blocks.runtime.history import Run
    from core_blocks.runtime.states import State, StateType

    run = engine.new_run("task", whereabouts)
    worker = Run("task", run.fn_name, {}, id=run.id, created=run.created, store=get_store(),
                 states=list(run.states), worker="tcp://127.0.0.1:1 (w)")
    worker.set_state(State(StateType.RUNNING))
    worker.set_state(State(StateType.COMPLETED))
    history.flush()
    done: concurrent.futures.Future = concurrent.futures.Future()

    DaskTaskRunner()._settle_cancelled(run, done)
    history.flush()

    assert done.result().name == "Completed" and run.state.name == "Completed"
    stored = history.get_run(get_store(), run.id)
    assert stored["state"] == "Completed"
    assert [s["state"] for s in stored["states"]] == ["Pending", "Running", "Completed"]
