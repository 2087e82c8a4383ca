"""Run history at scale: 10,000 tasks run and recorded (to the end of the history flush) with
10,000 and with 100,000 runs already stored, which must not grow with the table, and pruning.

CORE_BLOCKS_BENCH_RUNS sets the larger table size (default 100000).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import scratch_home, trivial_flows  # noqa: E402

TASKS = 10_000
LARGE = int(os.environ.get("CORE_BLOCKS_BENCH_RUNS", "100000"))


def seed(store, count: int) -> None:
    """count finished task runs (with two states each), as the history writer records them."""
    now = time.time() - 3600
    runs, states = [], []
    for i in range(count):
        run_id = uuid.uuid4().hex
        runs.append((run_id, "task", f"old-{run_id[:8]}", "old", "seeded", None, None, "{}",
                     "Completed", "Completed", 1, now + i * 1e-3, now, now, None, None, None,
                     30.0))
        states += [(run_id, 0, "Running", "Running", now, None),
                   (run_id, 1, "Completed", "Completed", now, None)]
    from core_blocks.store import runs as stored_runs

    stored_runs.record(store, runs, states)


def flush_after_tasks(rounds: int = 5) -> float:
    from core_blocks.runtime.history import flush

    sequential, _ = trivial_flows()

    times = []
    for _ in range(rounds):  # the writer records while the tasks run: time both, to the end
        started = time.perf_counter()
        sequential(TASKS)
        flush()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    os.environ["CORE_BLOCKS_RUN_RETENTION"] = "off"  # the bench sizes the table itself
    results = {}
    for size in (10_000, LARGE):
        scratch_home()
        os.environ["CORE_BLOCKS_RUN_RETENTION"] = "off"
        from core_blocks.runtime.history import flush
        from core_blocks.store import get_store

        store = get_store()
        seed(store, size)
        flush_after_tasks(1)  # warm-up: opens the store, starts the writer
        flush()
        results[size] = flush_after_tasks()
        print(f"{TASKS:,} tasks run and recorded, {size:>7,} runs stored   "
              f"median {results[size]:.3f} s")
    ratio = results[LARGE] / results[10_000]
    print(f"{'  growth from 10,000 to ' + format(LARGE, ',') + ' runs':<48} {ratio:.2f}x  "
          f"target ≤ 1.3x: {'meets' if ratio <= 1.3 else 'MISSES'}")
    from core_blocks.runtime.retention import Retention, prune_runs
    from core_blocks.store import get_store

    started = time.perf_counter()
    removed = prune_runs(get_store(), Retention(max_runs=10_000))
    print(f"prune to the newest 10,000 runs: {removed:,} removed in "
          f"{time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
