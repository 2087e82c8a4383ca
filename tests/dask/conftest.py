"""Real Dask clusters on 127.0.0.1 for the DaskTaskRunner tests.

`dask_cluster` is one LocalCluster of two worker processes for the whole session; its workers
were started in `cluster_home`, so every test here runs in that home too (the autouse
`shared_home`): the flow and its workers share the SQLite store and the file backend's key.
`dask_processes` starts `dask scheduler` and two `dask worker` processes on a PostgreSQL
store, and stops them by PID.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from core_blocks.testing import reset_state
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).with_name("dask")


@pytest.fixture(scope="session")
def cluster_home(tmp_path_factory) -> dict[str, str]:
    """The environment the session cluster's workers run with: a home, the file backend and
    its key."""
    from cryptography.fernet import Fernet

    return {"CORE_BLOCKS_HOME": str(tmp_path_factory.mktemp("dask_home")),
            "CORE_BLOCKS_SECRET_BACKEND": "file",
            "CORE_BLOCKS_SECRET_KEY": Fernet.generate_key().decode(),
            "CORE_BLOCKS_PLUGINS_DIRS": ""}


@pytest.fixture(autouse=True)
def shared_home(block_home, cluster_home, monkeypatch):
    """Each test in the home the cluster's workers use (runs accumulate: filter by flow run)."""
    for name, value in cluster_home.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CORE_BLOCKS_STORE_URL", raising=False)
    reset_state()
    yield Path(cluster_home["CORE_BLOCKS_HOME"])
    reset_state()


def start_local_cluster(env: dict[str, str], workers: int = 2):
    """A LocalCluster of worker processes started with env in their environment."""
    from distributed import LocalCluster

    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # spawned workers inherit the environment of the moment
    try:
        return LocalCluster(n_workers=workers, threads_per_worker=2, processes=True,
                            host="127.0.0.1", dashboard_address="127.0.0.1:0")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def dask_cluster(cluster_home):
    cluster = start_local_cluster(cluster_home)
    yield cluster
    cluster.close()


@pytest.fixture
def runner(dask_cluster):
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=dask_cluster.scheduler_address)


@pytest.fixture(scope="module")
def pg_store_url():
    """A PostgreSQL store URL on a fresh schema, for a module's worth of tests."""
    base = os.environ.get("CORE_BLOCKS_TEST_PG_URL")
    if not base:
        service_missing("PostgreSQL", "set CORE_BLOCKS_TEST_PG_URL (make test starts a server)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    reset_state()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


class DaskProcesses:
    """A `dask scheduler` and its `dask worker` processes, each stopped by its PID."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder, self.env = folder, env
        self.scheduler_file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = []

    def _start(self, *args: str, log: str) -> subprocess.Popen:
        with open(self.folder / log, "wb") as out:
            proc = subprocess.Popen([str(DASK), *args], env=self.env, cwd=ROOT, stdout=out,
                                    stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def start(self, workers: int) -> None:
        self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(self.scheduler_file), log="scheduler.log")
        for n in range(workers):
            # --no-nanny: the worker is the process we start, so SIGKILL kills the worker.
            self._start("worker", "--scheduler-file", str(self.scheduler_file), "--host",
                        "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
                        "--name", f"w{n}", log=f"worker{n}.log")
        from distributed import Client

        deadline = time.monotonic() + 60
        while not self.scheduler_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError((self.folder / "scheduler.log").read_text())
            time.sleep(0.1)
        with Client(scheduler_file=str(self.scheduler_file), timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)
            self.address = client.scheduler.address

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory, pg_store_url, cluster_home):
    """`dask scheduler` + two `dask worker` processes on 127.0.0.1, on the PostgreSQL store."""
    env = {**os.environ, **cluster_home, "CORE_BLOCKS_STORE_URL": pg_store_url,
           "PYTHONPATH": str(ROOT)}
    processes = DaskProcesses(tmp_path_factory.mktemp("dask_processes"), env)
    try:
        processes.start(workers=2)
        yield processes
    finally:
        processes.stop()
