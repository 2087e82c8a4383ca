"""PER_NODE with ProcessPoolTaskRunner on real dbt-postgres: four independent three-second
tables build in parallel worker processes, clearly faster than on the thread pool; a
failing node's error quoting the profile's user (a Secret block) comes back masked, and
neither it nor the password (another) reaches the results or the run history; the pool is
gone after the build; DuckDB is refused."""

from __future__ import annotations

import json
import os
import pickle
import time
import uuid
from concurrent.futures import Future
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import pytest

from core_blocks import Secret, ThreadPoolTaskRunner, flow
from core_blocks.runtime import history
from core_blocks.secret_values import remember_read
from core_blocks.store import get_store
from core_blocks.testing.isolation import isolated_home
from prefect_dbt import PrefectDbtSettings
from prefect_dbt.core._executor import DbtCoreExecutor, ExecutionResult
from prefect_dbt.core._node_processes import (
    NodeProcessError,
    ProcessPoolTaskRunner,
    _ProcessNodeExecutor,
    open_node_executor,
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
                                         "select 1 as x from pg_sleep(3)\n" for i in range(4)}
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


def _children(pid: int) -> list[int]:
    """The live (not zombie) child processes of `pid` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(ppid) == pid and state != "Z":
            found.append(int(stat.parent.name))
    return found


def _workers_left(before: set[int]) -> list[int]:
    """dbt worker processes still alive: our children started since `before` (other tests
    of the suite may keep processes of their own) other than multiprocessing's own helpers
    (its resource tracker, its fork server), and the fork server's children."""
    left = []
    for pid in _children(os.getpid()):
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"multiprocessing.forkserver" in command:
            left += _children(pid)
        elif b"multiprocessing.resource_tracker" not in command and pid not in before:
            left.append(pid)
    return left


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
        before = set(_children(os.getpid()))
        processes, process_wall = _build(sleepers, ProcessPoolTaskRunner, "processes")
        deadline = time.monotonic() + 5  # the fork server reaps its children
        while (children := _workers_left(before)) and time.monotonic() < deadline:
            time.sleep(0.1)
        failing = PrefectDbtSettings(
            project_dir=_project(root / "failing", {**SLEEPERS,
                                                    "models/quoter.sql": QUOTES_SECRET}),
            profiles_dir=profiles)
        failed, _ = _build(failing, ProcessPoolTaskRunner, "failing",
                           raise_on_failure=False)
        written = {str(p): p.read_bytes() for p in (root / "failing").rglob("*")
                   if p.is_file() and not {"compiled", "run"} & set(p.parts)}
        history.flush()
        runs = [history.get_run(get_store(), r["id"])
                for r in history.list_runs(get_store(), limit=100)]
    print(f"\n4 x pg_sleep(3), concurrency 4: threads {thread_wall:.1f} s, "
          f"processes {process_wall:.1f} s")
    return SimpleNamespace(threads=threads, thread_wall=thread_wall, processes=processes,
                           process_wall=process_wall, children=children, failed=failed,
                           runs=runs, password=password, role=role, written=written)


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


def test_the_pool_shuts_down_on_an_interrupt_and_its_workers_get_no_secret(tmp_path,
                                                                            block_home):
    Secret(value="canary-never-pickled").save("pg-password")
    Secret(value="canary-user").save("pg-user")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(PROFILE % ("localhost", 5432, "d", "s"))
    settings = PrefectDbtSettings(project_dir=_project(tmp_path / "p", {}),
                                  profiles_dir=profiles)
    owner = SimpleNamespace(_executor=DbtCoreExecutor(settings),
                            _task_runner_type=ProcessPoolTaskRunner,
                            _determine_per_node_max_workers=lambda runner, wave: 2)
    with pytest.raises(KeyboardInterrupt), ExitStack() as stack:
        executor = open_node_executor(owner, 4, "postgres", stack)
        config = executor._config
        assert (Path(config["profiles_dir"]) / "profiles.yml").is_file()
        raise KeyboardInterrupt
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor._pool.submit(print)
    assert not Path(config["profiles_dir"]).exists()  # the resolved profiles went too
    assert b"canary-" not in pickle.dumps(config)


def test_an_executor_of_the_caller_s_is_kept_and_runs_in_threads(tmp_path):
    class Mine(DbtCoreExecutor):
        pass

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text("shop: {}\n")
    mine = Mine(PrefectDbtSettings(project_dir=_project(tmp_path / "p", {}),
                                   profiles_dir=profiles))
    owner = SimpleNamespace(_executor=mine, _task_runner_type=ProcessPoolTaskRunner)
    with ExitStack() as stack:
        assert open_node_executor(owner, 4, "duckdb", stack) is mine


def test_a_failing_node_s_error_comes_back_masked(builds):
    error = builds.failed["model.shop.quoter"]["error"]
    assert error["type"] != "NodeProcessError"  # dbt's own type, by name
    assert 'type integer: "**********"' in error["message"]  # quoted by Postgres, masked
    assert {builds.failed[f"model.shop.sleeper_{i}"]["status"] for i in range(4)} == {
        "success"}
    for secret in (builds.password, builds.role):
        assert secret not in json.dumps(builds.failed, default=str)
        assert secret not in json.dumps(builds.runs, default=str)
        # dbt's log and JSON artifacts: workers, knowing no secret to scrub, write none
        assert not [path for path, data in builds.written.items() if secret.encode() in data]


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


class _DonePool:
    """A pool whose every call returns `outcome` at once, as a worker would hand it back."""

    def __init__(self, outcome):
        self.outcome = outcome

    def submit(self, fn, *args):
        future = Future()
        future.set_result(pickle.loads(pickle.dumps(self.outcome)))
        return future


def test_the_parent_masks_what_a_worker_returns(block_home):
    secret = "canary-from-a-block"
    remember_read(secret)  # read by this process when it resolved profiles.yml
    node_id = "model.shop.quoter"
    outcome = ExecutionResult(
        False, [node_id], NodeProcessError(f"bad {secret}", "DbtFailure"),
        {node_id: {"status": "error", "message": f"no {secret}", "execution_time": 0.1}},
        {node_id: [("error", f"said {secret}")]})
    executor = _ProcessNodeExecutor(_DonePool(outcome), {})
    node = SimpleNamespace(unique_id=node_id, dbt_selector="path:models/quoter.sql")

    result = executor.execute_node(node, "run")

    assert secret not in repr(result) and "**********" in str(result.error)
    assert result.error.type_name == "DbtFailure"


def test_a_worker_s_error_pickles_with_its_type_name():
    import pickle

    error = pickle.loads(pickle.dumps(NodeProcessError("boom", "DbtFailure")))
    assert (str(error), error.type_name) == ("boom", "DbtFailure")


def test_importing_the_runner_class_imports_no_dbt():
    import subprocess
    import sys

    probe = ("import sys, prefect_dbt.core._node_processes;"
             "print(*[m for m in sys.modules if m.split('.')[0] == 'dbt'])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
