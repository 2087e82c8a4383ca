"""PER_NODE with ProcessPoolTaskRunner on real dbt-postgres: four independent two-second
tables build in parallel worker processes, clearly faster than on the thread pool; a
failing node's error quoting the profile's user (a Secret block) comes back masked, and
neither it nor the password (another) reaches the results or the run history; the pool is
gone after the build; DuckDB is refused."""

from __future__ import annotations

import json
import multiprocessing
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from core_blocks import Secret, ThreadPoolTaskRunner, flow
from core_blocks.runtime import history
from core_blocks.store import get_store
from core_blocks.testing.isolation import isolated_home
from prefect_dbt import PrefectDbtSettings
from prefect_dbt.core._node_processes import (
    NodeProcessError,
    ProcessPoolTaskRunner,
    wants_processes,
)
from prefect_dbt.core._orchestrator import ExecutionMode, PrefectDbtOrchestrator

PROFILE = """shop:
  target: ci
  outputs:
    ci:
      type: postgres
      host: "%s"
      port: %d
      dbname: "%s"
      user: "{{ prefect.blocks.secret.pg-user }}"
      password: "{{ prefect.blocks.secret.pg-password }}"
      schema: "%s"
      threads: 1
"""
SLEEPERS = {f"models/sleeper_{i}.sql": "{{ config(materialized='table') }}\n"
                                         "select 1 as x from pg_sleep(2)\n" for i in range(4)}
# Postgres quotes the literal in its error: the login role's name, read from a Secret block
# (dbt renders target.password empty).
QUOTES_SECRET = "select cast('{{ target.user }}' as integer) as x\n"


def _project(folder: Path, models: dict[str, str]) -> Path:
    files = {"dbt_project.yml": "name: shop\nversion: '1.0'\nprofile: shop\n"
                                "config-version: 2\n", **models}
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def _build(settings: PrefectDbtSettings, runner: type, name: str, **options) -> tuple:
    """(results, wall seconds) of a PER_NODE build with concurrency 4 on `runner`."""
    orchestrator = PrefectDbtOrchestrator(settings=settings,
                                          execution_mode=ExecutionMode.PER_NODE,
                                          task_runner_type=runner, concurrency=4, **options)
    started = time.perf_counter()
    results = flow(name=name)(orchestrator.run_build)()
    return results, time.perf_counter() - started


@pytest.fixture(scope="module")
def builds(tmp_path_factory, postgres_login):
    """The sleepers built on threads then on processes (timed), and a build with a model
    whose error quotes the user, in one block home."""
    root = tmp_path_factory.mktemp("processes")
    host, port, dbname, role, password = postgres_login
    profiles = root / "profiles"
    profiles.mkdir()
    schema = f"procs_{uuid.uuid4().hex[:8]}"
    (profiles / "profiles.yml").write_text(PROFILE % (host, port, dbname, schema))
    with isolated_home(root / "home"):
        Secret(value=password).save("pg-password")
        Secret(value=role).save("pg-user")
        sleepers = PrefectDbtSettings(project_dir=_project(root / "sleepers", SLEEPERS),
                                      profiles_dir=profiles)
        PrefectDbtOrchestrator(settings=sleepers).plan()  # dbt's parse, not timed
        threads, thread_wall = _build(sleepers, ThreadPoolTaskRunner, "threads")
        processes, process_wall = _build(sleepers, ProcessPoolTaskRunner, "processes")
        children = multiprocessing.active_children()
        failing = PrefectDbtSettings(
            project_dir=_project(root / "failing", {**SLEEPERS,
                                                    "models/quoter.sql": QUOTES_SECRET}),
            profiles_dir=profiles)
        failed, _ = _build(failing, ProcessPoolTaskRunner, "failing",
                           raise_on_failure=False)
        history.flush()
        runs = [history.get_run(get_store(), r["id"])
                for r in history.list_runs(get_store(), limit=100)]
    print(f"\n4 x pg_sleep(2), concurrency 4: threads {thread_wall:.1f} s, "
          f"processes {process_wall:.1f} s")
    return SimpleNamespace(threads=threads, thread_wall=thread_wall, processes=processes,
                           process_wall=process_wall, children=children, failed=failed,
                           runs=runs, password=password, role=role)


def test_processes_build_the_sleepers_clearly_faster_than_threads(builds):
    assert {r["status"] for r in builds.threads.values()} == {"success"}
    assert {r["status"] for r in builds.processes.values()} == {"success"}
    assert len(builds.processes) == 4
    assert builds.process_wall < 0.75 * builds.thread_wall


def test_each_node_is_still_a_task_run_of_this_process(builds):
    names = {r["name"].rsplit("-", 1)[0] for r in builds.runs if r.get("kind") == "task"}
    assert {f"model sleeper_{i}" for i in range(4)} <= names


def test_the_pool_is_shut_down_after_the_build(builds):
    assert builds.children == []
    assert multiprocessing.active_children() == []


def test_a_failing_node_s_error_comes_back_masked(builds):
    error = builds.failed["model.shop.quoter"]["error"]
    assert error["type"] != "NodeProcessError"  # dbt's own type, by name
    assert 'type integer: "**********"' in error["message"]  # quoted by Postgres, masked
    assert {builds.failed[f"model.shop.sleeper_{i}"]["status"] for i in range(4)} == {
        "success"}
    for secret in (builds.password, builds.role):
        assert secret not in json.dumps(builds.failed, default=str)
        assert secret not in json.dumps(builds.runs, default=str)


def test_duckdb_is_refused_with_the_fix(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        f'shop:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '
        f'"{tmp_path / "shop.duckdb"}"}}\n')
    settings = PrefectDbtSettings(project_dir=_project(tmp_path / "p", SLEEPERS),
                                  profiles_dir=profiles)
    with pytest.raises(ValueError, match="lets one process write its database file.*"
                                         "ThreadPoolTaskRunner.*PostgreSQL"):
        _build(settings, ProcessPoolTaskRunner, "duckdb")


def test_which_runner_classes_ask_for_processes():
    prefects = type("ProcessPoolTaskRunner", (), {"__module__": "prefect.task_runners"})
    assert wants_processes(ProcessPoolTaskRunner) and wants_processes(prefects)
    assert wants_processes(type("Mine", (ProcessPoolTaskRunner,), {}))
    assert not wants_processes(ThreadPoolTaskRunner) and not wants_processes(None)


def test_a_worker_s_error_pickles_with_its_type_name():
    import pickle

    error = pickle.loads(pickle.dumps(NodeProcessError("boom", "DbtFailure")))
    assert (str(error), error.type_name) == ("boom", "DbtFailure")
