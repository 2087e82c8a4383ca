"""DaskTaskRunner against the thread pool: 1,000 trivial tasks and 200 tasks sleeping 50 ms,
on 4 workers (4 Dask worker processes of one thread each; a pool of 4 threads).

Not a timed test: the numbers depend on the machine. The cluster starts once, outside the
timings (a flow given `address=` reuses it, as a team's flows reuse their scheduler); each
timing is a whole flow run, history recorded, waiting for every result. Store: SQLite in a
scratch home, or CORE_BLOCKS_BENCH_STORE_URL (e.g. a PostgreSQL URL).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import scratch_home  # noqa: E402

WORKERS = 4
TRIVIAL = 1000
SLEEPING, NAP = 200, 0.05
ROUNDS = int(os.environ.get("CORE_BLOCKS_BENCH_ROUNDS", "3"))


def main() -> None:
    scratch_home()
    if os.environ.get("CORE_BLOCKS_BENCH_STORE_URL"):
        os.environ["CORE_BLOCKS_STORE_URL"] = os.environ["CORE_BLOCKS_BENCH_STORE_URL"]
    from distributed import LocalCluster

    from core_blocks import flow, task
    from core_blocks.runtime.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    @task
    def trivial(n: int) -> int:
        return n

    @task
    def sleepy(n: int) -> int:
        time.sleep(NAP)
        return n

    def timed(runner, fn, count: int) -> float:
        @flow(task_runner=runner)
        def fan_out():
            return [f.result() for f in fn.map(range(count))]

        started = time.perf_counter()
        assert fan_out() == list(range(count))
        return time.perf_counter() - started

    cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0")
    try:
        runners = {"thread pool (4 threads)": ThreadPoolTaskRunner(WORKERS),
                   "Dask (4 worker processes)": DaskTaskRunner(
                       address=cluster.scheduler_address)}
        for label, runner in runners.items():
            timed(runner, trivial, 50)  # warm-up: store, writer, workers' imports
            for fn, count, what in ((trivial, TRIVIAL, f"{TRIVIAL} trivial tasks"),
                                    (sleepy, SLEEPING, f"{SLEEPING} x {NAP * 1000:.0f} ms tasks")):
                times = [timed(runner, fn, count) for _ in range(ROUNDS)]
                median = statistics.median(times)
                print(f"{label:28} {what:24} median {median:6.2f} s "
                      f"({count / median:7.0f} tasks/s; runs: "
                      f"{', '.join(f'{t:.2f}' for t in times)})")
        _bare_dask(cluster)
        print(f"ideal for {SLEEPING} x {NAP * 1000:.0f} ms on {WORKERS} workers: "
              f"{SLEEPING * NAP / WORKERS:.2f} s")
    finally:
        cluster.close()


def _bare(n: int) -> int:
    return n


def _bare_nap(n: int) -> int:
    time.sleep(NAP)
    return n


def _bare_dask(cluster) -> None:
    """The same work as plain functions through distributed.Client.map: Dask's own share."""
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        client.gather(client.map(_bare, range(50), pure=False))
        for fn, count, what in ((_bare, TRIVIAL, f"{TRIVIAL} trivial calls"),
                                (_bare_nap, SLEEPING, f"{SLEEPING} x {NAP * 1000:.0f} ms calls")):
            times = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                client.gather(client.map(fn, range(count), pure=False))
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            print(f"{'bare Dask (no runtime)':28} {what:24} median {median:6.2f} s "
                  f"({count / median:7.0f} tasks/s)")


if __name__ == "__main__":
    main()
