"""Run-history retention: finished runs older than the age or beyond the count go, with their
states and artifacts; live runs stay; the history writer and `blocks runs prune` apply it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from core_blocks import create_markdown_artifact, flow, task
from core_blocks.runtime import history
from core_blocks.runtime.retention import (
    DEFAULT_RETENTION,
    Retention,
    RetentionError,
    parse_retention,
    prune_runs,
)
from core_blocks.store import get_store
from tests.core.test_store import raw_execute
from tests.helpers import BLOCKS

DAY = 86400.0


@task
def step(i: int) -> int:
    create_markdown_artifact("step-note", f"step {i}")
    return i


@flow
def batch(n: int) -> int:
    return sum(step(i) for i in range(n))


def counts() -> tuple[int, int, int]:
    history.flush()
    store = get_store()
    return tuple(store.query(f"SELECT COUNT(*) FROM {table}")[0][0]
                 for table in ("runs", "run_states", "run_artifacts"))


def blocks(*args: str) -> subprocess.CompletedProcess:
    history.flush()
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", Retention(30 * DAY, None)),
    ("12h,5000", Retention(12 * 3600.0, 5000)),
    ("100000, 2w", Retention(14 * DAY, 100000)),
    ("90m", Retention(5400.0, None)),
    ("off", Retention()),
    (DEFAULT_RETENTION, Retention(30 * DAY, 100000)),
])
def test_a_retention_is_an_age_a_count_both_or_off(text, expected):
    assert parse_retention(text) == expected


@pytest.mark.parametrize("text", ["30 days", "-5", "0d,0d", "10,20", "1y", "x"])
def test_a_bad_retention_names_the_setting_and_the_forms(text):
    with pytest.raises(RetentionError) as caught:
        parse_retention(text)

    assert str(caught.value).startswith(f"CORE_BLOCKS_RUN_RETENTION={text.strip().lower()!r}")
    assert "30d,100000" in str(caught.value)


def test_runs_older_than_the_age_go_with_their_states_and_artifacts(any_store):
    batch(3)  # 1 flow + 3 task runs, 3 artifacts
    old_runs, old_states, old_artifacts = counts()
    raw_execute(f"UPDATE runs SET created = created - {40 * DAY}")
    batch(2)  # 3 newer runs

    removed = prune_runs(get_store(), Retention(max_age=30 * DAY))

    assert removed == old_runs == 4
    runs, states, artifacts = counts()
    assert runs == 3 and artifacts == 2 and old_artifacts == 3
    left = {r["id"] for r in history.list_runs(get_store(), limit=100)}
    assert {a["run_id"] for a in _artifacts()} <= left
    assert {r[0] for r in get_store().query("SELECT DISTINCT run_id FROM run_states")} == left
    assert 0 < states < old_states * 2


def _artifacts():
    from core_blocks.runtime.artifacts import list_artifacts

    return list_artifacts(get_store(), limit=100)


def test_only_the_newest_runs_are_kept_by_count(any_store):
    for _ in range(6):
        batch(1)  # 2 runs each
    newest = [r["id"] for r in history.list_runs(get_store(), limit=4)]

    removed = prune_runs(get_store(), Retention(max_runs=4))

    assert removed == 8
    assert [r["id"] for r in history.list_runs(get_store(), limit=100)] == newest
    runs, states, artifacts = counts()
    assert (runs, artifacts) == (4, 2)
    states_left = get_store().query("SELECT DISTINCT run_id FROM run_states")
    assert {r[0] for r in states_left} == set(newest)


def test_a_live_run_is_never_pruned_however_old(any_store):
    seen = {}

    @flow
    def long_flow():
        history.flush()
        raw_execute(f"UPDATE runs SET created = created - {400 * DAY}")
        seen["removed"] = prune_runs(get_store(), Retention(max_age=DAY, max_runs=1))
        return len(history.list_runs(get_store()))

    assert long_flow() == 1
    assert seen["removed"] == 0


def test_a_lapsed_run_of_a_dead_process_is_pruned(any_store, monkeypatch):
    monkeypatch.setenv(history.HEARTBEAT_ENV, "0.2")
    batch(1)
    history.flush()
    raw_execute("UPDATE runs SET state = 'Running', state_name = 'Running', "
                "heartbeat = heartbeat - 3600", f"UPDATE runs SET created = created - {2 * DAY}")

    assert prune_runs(get_store(), Retention(max_age=DAY)) == 2


def test_the_history_writer_applies_the_retention_at_its_first_write(any_store, tmp_path):
    batch(4)  # 5 runs, all kept: the default retention keeps 30 days
    assert counts()[0] == 5
    script = tmp_path / "one_more.py"
    script.write_text("from core_blocks import flow\n\n"
                      "@flow\ndef late_flow():\n    return 1\n\nlate_flow()\n")

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "CORE_BLOCKS_RUN_RETENTION": "3"})

    assert done.returncode == 0, done.stderr
    runs = history.list_runs(get_store(), limit=100)
    # Its first write recorded its flow run, then kept the 3 newest runs.
    assert len(runs) == 3
    assert runs[0]["flow_name"] == "late_flow" and runs[0]["state_name"] == "Completed"


def test_blocks_runs_prune_applies_options_or_the_setting(any_store):
    for _ in range(3):
        batch(1)

    kept = blocks("runs", "prune", "--keep", "2", "--json")
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout) == {"removed": 4, "kept": "the newest 2 runs"}

    raw_execute(f"UPDATE runs SET created = created - {3 * 3600}")
    aged = blocks("runs", "prune", "--older-than", "2h")
    assert aged.returncode == 0, aged.stderr
    assert aged.stdout.strip() == "Pruned 2 run(s); kept runs newer than 2h."
    assert counts() == (0, 0, 0)

    bad = blocks("runs", "prune", "--older-than", "5")
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("Error: --older-than '5' is not an age; write it as e.g. 30d, "
                                  "12h or 90m.")


def test_pruning_keeps_the_flush_of_new_runs_working(any_store):
    batch(2)
    prune_runs(get_store(), Retention(max_runs=1))
    started = time.time()
    batch(2)

    assert counts()[0] >= 3
    assert all(r["created"] >= started for r in history.list_runs(get_store(), limit=3))
