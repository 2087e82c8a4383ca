"""A task run on a Dask worker is recorded in the flow's store, under its flow run, with the
worker that ran it; a worker that does not share the flow's SQLite store refuses in one line."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from core_blocks import flow, task
from core_blocks.runtime import engine, history
from core_blocks.store import get_store
from core_blocks.store import runs as stored_runs
from prefect_dask.packing import pack
from prefect_dask.worker_runs import run_on_worker, store_identity
from tests.helpers import BLOCKS


@task
def shout(word: str) -> str:
    return word.upper()


def test_worker_runs_are_recorded_with_their_flow_run_and_worker(runner, dask_cluster):
    @flow(task_runner=runner)
    def greet():
        return [f.result() for f in shout.map(["a", "b"])]

    greet()
    [flow_run] = history.list_runs(get_store(), kind="flow", flow="greet", limit=1)
    run = history.get_run(get_store(), flow_run["id"])

    workers = set(dask_cluster.scheduler_info["workers"])
    assert [c["fn_name"] for c in run["children"]] == ["shout", "shout"]
    for child in run["children"]:
        assert child["state"] == "Completed" and child["flow_run_id"] == run["id"]
        assert child["worker"].split(" ")[0] in workers
        states = [s["state"] for s in stored_runs.run_states(get_store(), child["id"])]
        assert states == ["Pending", "Running", "Completed"]
    assert run["worker"] is None  # the flow ran here


def test_blocks_runs_show_names_the_worker(runner):
    @flow(task_runner=runner)
    def one():
        return shout.submit("x").run.id

    run_id = one()
    history.flush()
    shown = subprocess.run([BLOCKS, "runs", "show", run_id[:12]], capture_output=True,
                           text=True, env={**os.environ, "COLUMNS": "200"}, timeout=60)

    assert shown.returncode == 0, shown.stderr
    assert "worker" in shown.stdout and "tcp://127.0.0.1:" in shown.stdout


def _sent():
    """A task run recorded Pending here, as DaskTaskRunner sends it: (payload, meta)."""
    run = engine.new_run("task", shout)
    history.flush()
    meta = {"run_id": run.id, "fn_name": run.fn_name, "task_name": "shout", "parent_id": None,
            "flow_name": None, "flow_run_id": None, "created": run.created, "log_prints": False,
            "store": store_identity(run.store)}
    return pack((engine.run_task, shout, ("hi",), {}), "test"), meta


def test_a_worker_on_another_sqlite_store_refuses_naming_the_fix(monkeypatch, tmp_path):
    payload, meta = _sent()
    monkeypatch.setenv("CORE_BLOCKS_HOME", str(tmp_path / "elsewhere"))

    report = run_on_worker(payload, meta)

    [(state, _, _, message)] = report["states"]
    assert state == "Failed"
    assert message == (f"Worker local ({os.uname().nodename}) uses the store "
                       f"{tmp_path / 'elsewhere' / 'blocks.db'}, not the flow's "
                       f"{meta['store']['sqlite']}. Start it with CORE_BLOCKS_STORE_URL="
                       f"sqlite:///{meta['store']['sqlite']}.")


@pytest.mark.parametrize("case", ["missing", "another file"])
def test_a_worker_without_the_flows_sqlite_file_refuses(case, tmp_path):
    payload, meta = _sent()
    if case == "missing":
        meta["store"]["sqlite"] = str(tmp_path / "not-here.db")
        expected = "no such file here. SQLite serves only workers sharing the flow's file system"
    else:
        copy = tmp_path / "copy.db"
        shutil.copy(meta["store"]["sqlite"], copy)
        meta["store"]["sqlite"] = str(copy)  # same name elsewhere: another inode
        meta["store"]["inode"] = os.stat(meta["store"]["sqlite"]).st_ino + 1
        expected = "is another file than the flow's SQLite store"

    report = run_on_worker(payload, meta)

    [(state, _, _, message)] = report["states"]
    assert state == "Failed" and expected in message
    assert "CORE_BLOCKS_STORE_URL=postgresql://" in message
    assert "\n" not in message
