"""A `dask scheduler` and two `dask worker` processes on 127.0.0.1, the store on PostgreSQL:
tasks run and are recorded there, and a worker killed mid-task (SIGKILL) has its task run
again on the other worker, never left Running."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from core_blocks import flow, task
from core_blocks.runtime import history
from core_blocks.store import get_store
from core_blocks.store import runs as stored_runs
from core_blocks.testing import reset_state
from prefect_dask import DaskTaskRunner


@pytest.fixture
def on_postgres(pg_store_url, monkeypatch):
    monkeypatch.setenv("CORE_BLOCKS_STORE_URL", pg_store_url)
    reset_state()
    return get_store()


@task
def nap(n: int) -> tuple[int, int]:
    time.sleep(0.3)
    return n, os.getpid()


def test_tasks_run_on_the_worker_processes_and_are_recorded_in_postgresql(dask_processes,
                                                                          on_postgres):
    @flow(task_runner=DaskTaskRunner(address=dask_processes.address))
    def naps():
        return [f.result() for f in nap.map(range(4))]

    results = naps()

    assert [n for n, _ in results] == [0, 1, 2, 3]
    worker_pids = {p.pid for p in dask_processes.procs[1:]}
    assert {pid for _, pid in results} <= worker_pids
    [flow_run] = history.list_runs(on_postgres, kind="flow", flow="naps")
    children = history.get_run(on_postgres, flow_run["id"])["children"]
    assert [c["state"] for c in children] == ["Completed"] * 4
    assert all(c["worker"].startswith("tcp://127.0.0.1:") for c in children)


def test_a_worker_killed_mid_task_has_the_task_run_again_elsewhere(dask_processes, on_postgres,
                                                                   tmp_path):
    pid_file = tmp_path / "pid"

    @task
    def long_job() -> int:
        first = not pid_file.exists()
        pid_file.write_text(str(os.getpid()))
        if first:
            time.sleep(60)  # killed before this ends
        return os.getpid()

    killed: list[int] = []

    def kill_the_worker_running_it() -> None:
        while not pid_file.exists():
            time.sleep(0.05)
        time.sleep(0.2)
        killed.append(int(pid_file.read_text()))
        os.kill(killed[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_the_worker_running_it)
    killer.start()

    @flow(task_runner=DaskTaskRunner(address=dask_processes.address))
    def survives():
        future = long_job.submit()
        return future.result(timeout=60), future.run.id

    started = time.monotonic()
    pid, run_id = survives()
    killer.join()

    assert pid != killed[0] and time.monotonic() - started < 30
    run = stored_runs.run_by_id(on_postgres, run_id)
    states = stored_runs.run_states(on_postgres, run_id)
    assert run["state"] == "Completed" and run["attempts"] == 2
    assert [s["state"] for s in states] == ["Pending", "Running", "Retrying", "Running",
                                            "Completed"]
    assert "stopped; Dask runs it again on tcp://127.0.0.1:" in states[2]["message"]
