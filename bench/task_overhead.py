"""Task runtime overhead: sequential trivial tasks with run recording on, and 500 submits."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import scratch_home, trivial_flows  # noqa: E402

SEQUENTIAL = 5000
SUBMITTED = 500


def main() -> None:
    scratch_home()
    from core_blocks.runtime.history import flush, list_runs
    from core_blocks.store import get_store

    sequential, submitted = trivial_flows()

    sequential(50)  # warm-up: opens the store, starts the history writer
    flush()
    rates, walls, flushes = [], [], []
    for _ in range(5):
        started = time.perf_counter()
        sequential(SEQUENTIAL)
        rates.append(SEQUENTIAL / (time.perf_counter() - started))
        started = time.perf_counter()
        flush()
        flushes.append(time.perf_counter() - started)
        started = time.perf_counter()
        submitted(SUBMITTED)
        walls.append(time.perf_counter() - started)
        flush()
    recorded = len(list_runs(get_store(), kind="task", limit=10**6))
    expected = 50 + 5 * (SEQUENTIAL + SUBMITTED)
    rate = statistics.median(rates)
    wall = statistics.median(walls)
    print(f"{'sequential trivial tasks, recording on':<42} median {rate:10,.0f} tasks/s  "
          f"target ≥ 5,000: {'meets' if rate >= 5000 else 'MISSES'}")
    print(f"{'  history flush after 5,000 tasks':<42} median {statistics.median(flushes):8.3f} s")
    print(f"{'500 tasks submitted at once (wall)':<42} median {wall:8.3f} s  "
          f"target ≤ 0.5 s: {'meets' if wall <= 0.5 else 'MISSES'}")
    print(f"{'task runs recorded':<42} {recorded:,} of {expected:,}")
    if recorded != expected:
        sys.exit("run history lost records")


if __name__ == "__main__":
    main()
