"""Heartbeats of live runs: a run whose process is killed reads as Crashed once its heartbeat
lapses (`blocks runs ls/show`, `--state crashed`), `blocks doctor` reports it and `--fix` records
it; a long healthy run keeps beating and stays Running. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from core_blocks import flow, task
from core_blocks.runtime import history
from core_blocks.store import get_store
from core_blocks.testing import reset_state
from tests.core.test_store import raw_execute
from tests.helpers import BLOCKS

BEAT = 0.5  # seconds between heartbeats in these tests: a run lapses after 3 × 0.5 s (a
# shorter beat read as lapsed on a loaded 2-core machine, where the writer thread ran late)

KILLED_FLOW = """
import sys, time
from pathlib import Path
from core_blocks import flow, task

@task
def load_table(marker):
    Path(marker).write_text("running")
    time.sleep(120)  # killed long before this ends

@flow
def nightly(marker):
    load_table(marker)

nightly(sys.argv[1])
"""


def blocks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "250"})


def runs_json(*args: str) -> list[dict]:
    done = blocks("runs", "ls", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_for(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def short_beat(monkeypatch):
    monkeypatch.setenv(history.HEARTBEAT_ENV, str(BEAT))


def test_a_killed_flow_reads_as_crashed_and_doctor_fix_records_it(any_store, short_beat,
                                                                  tmp_path):
    """kill -9 mid-run: Running while it beats, Crashed after the lapse, marked by --fix."""
    script, marker = tmp_path / "killed.py", tmp_path / "marker"
    script.write_text(KILLED_FLOW)
    proc = subprocess.Popen([sys.executable, str(script), str(marker)],
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(marker.exists, what="the task to start")
        time.sleep(4 * BEAT)  # past one lapse: only heartbeats keep it Running now
        assert {r["state_name"] for r in runs_json()} == {"Running"}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)

    def both_crashed():
        runs = runs_json("--state", "crashed")
        return runs if len(runs) == 2 else None

    crashed = wait_for(both_crashed, what="both runs to read as Crashed")
    assert {(r["kind"], r["state_name"]) for r in crashed} == {("flow", "Crashed"),
                                                              ("task", "Crashed")}
    assert runs_json("--state", "running") == []
    flow_name = next(r["name"] for r in crashed if r["kind"] == "flow")
    shown = blocks("runs", "show", flow_name)
    assert shown.returncode == 0 and "Crashed" in shown.stdout

    doctor = blocks("doctor", "--json")
    assert doctor.returncode == 1
    finding = next(f for f in json.loads(doctor.stdout)["findings"]
               if (f["area"], f["name"]) == ("runs", "crashed runs"))
    assert not finding["ok"] and "2 run(s)" in finding["detail"] and flow_name in finding["detail"]

    fixed = blocks("doctor", "--fix", "--json")
    assert fixed.returncode == 0, fixed.stdout
    assert sorted(json.loads(fixed.stdout)["fixed"]) == sorted(
        f"marked run {r['id']} Crashed" for r in crashed)
    # Recorded now, not only derived: the stored state, an end, and a Crashed transition.
    rows = get_store().query("SELECT state, ended FROM runs")
    assert [r[0] for r in rows] == ["Crashed", "Crashed"] and all(r[1] for r in rows)
    run = history.get_run(get_store(), flow_name)
    assert run["states"][-1]["state"] == "Crashed"
    assert "No heartbeat" in run["states"][-1]["message"]
    again = blocks("doctor", "--json")
    assert again.returncode == 0, again.stdout


def test_a_long_healthy_run_is_not_crashed(any_store, short_beat):
    """A run lasting many lapse periods keeps beating: every look at it finds it Running."""
    seen: list[str] = []

    def watch(stop: threading.Event) -> None:
        while not stop.is_set():
            seen.extend(r["state_name"] for r in history.list_runs(get_store()))
            time.sleep(BEAT / 2)

    @task
    def long_task():
        time.sleep(8 * BEAT)

    @flow
    def long_flow():
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(stop,))
        watcher.start()
        long_task()
        stop.set()
        watcher.join()

    started = time.time()
    long_flow()

    assert len(seen) > 10 and set(seen) <= {"Pending", "Running"}, seen
    assert "Running" in seen
    runs = history.list_runs(get_store())
    assert {r["state_name"] for r in runs} == {"Completed"}
    # The heartbeat moved on while the run lasted (store clock vs. local: a loose bound).
    assert all(r["heartbeat"] > started + 6 * BEAT for r in runs)


def test_runs_recorded_before_heartbeats_read_as_crashed_after_the_migration(any_store):
    """A v2 store's run stuck in Running gets its last time as heartbeat, so it lapses."""
    @flow
    def old_flow():
        return 1

    old_flow()
    history.flush()
    raw_execute("DROP TABLE run_artifacts",  # v4: a v2 store had no artifacts either
                "ALTER TABLE runs DROP COLUMN heartbeat",
                "ALTER TABLE runs DROP COLUMN heartbeat_timeout",
                "ALTER TABLE runs DROP COLUMN worker",  # v5
                "UPDATE core_blocks_meta SET value = '2' WHERE key = 'schema_version'",
                "UPDATE runs SET state = 'Running', state_name = 'Running', ended = NULL,"
                " created = created - 3600, started = started - 3600")
    reset_state()

    runs = history.list_runs(get_store())

    assert [r["state_name"] for r in runs] == ["Crashed"]
    assert runs[0]["heartbeat"] == pytest.approx(runs[0]["started"])


@pytest.mark.parametrize(("value", "expected"), [
    (None, history.DEFAULT_HEARTBEAT_SECONDS), ("0.5", 0.5), ("0", 10.0), ("-1", 10.0),
    ("soon", 10.0), ("inf", 10.0)])
def test_heartbeat_interval_comes_from_the_environment(monkeypatch, caplog, value, expected):
    """A positive number is used; anything else falls back to 10 s with a warning."""
    monkeypatch.setattr(history, "_bad_interval_warned", set())
    if value is None:
        monkeypatch.delenv(history.HEARTBEAT_ENV, raising=False)
    else:
        monkeypatch.setenv(history.HEARTBEAT_ENV, value)

    assert history.heartbeat_seconds() == expected
    assert (history.HEARTBEAT_ENV in caplog.text) == (value not in (None, "0.5"))


# -- the store's clock -----------------------------------------------------------------------

TAKE_SLOT = """
from core_blocks import concurrency
with concurrency("warehouse", timeout_seconds=1.5):
    print("took the slot")
"""


def test_leases_and_heartbeats_follow_the_store_clock_not_this_hosts(any_store, monkeypatch):
    """A host whose clock is an hour behind still holds its slot against a host with the right
    time, and its runs' heartbeats are current: both are stamped by the store."""
    from core_blocks import concurrency
    from core_blocks.runtime.concurrency import set_limit

    set_limit(get_store(), "warehouse", 1)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600)

    with concurrency("warehouse", lease_seconds=30):
        other = subprocess.run([sys.executable, "-c", TAKE_SLOT], capture_output=True,
                               text=True, timeout=120)

    @flow
    def skewed():
        return 1

    skewed()
    assert other.returncode == 1 and "No 1 free slot" in other.stderr, other.stdout
    heartbeat = history.list_runs(get_store())[0]["heartbeat"]
    assert abs(heartbeat - real_time()) < 60
