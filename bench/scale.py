"""Costs that could grow with the data: save, overwrite, load and `blocks ls` at 10, 1,000 and
10,000 saved blocks (file backend, SQLite store).

CORE_BLOCKS_BENCH_MAX_BLOCKS picks the largest size (default 10000; 1000 for a quick run).
Each size is filled by saving Secret blocks one by one, which is itself measured.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import report, scratch_home, time_command  # noqa: E402

SIZES = (10, 1_000, 10_000)
SAVE_MS, LOAD_MS, LS_S, FILL_S_PER_10K = 5.0, 0.5, 0.3, 60.0


def timed(call, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    largest = int(os.environ.get("CORE_BLOCKS_BENCH_MAX_BLOCKS", "10000"))
    scratch_home()
    from core_blocks import Secret

    blocks = shutil.which("blocks") or str(Path(sys.executable).parent / "blocks")
    saved = 0
    for size in (s for s in SIZES if s <= largest):
        started = time.perf_counter()
        for i in range(saved, size):
            Secret(value=f"value-{i}" * 4).save(f"block-{i:05d}")
        fill = time.perf_counter() - started
        per_10k = fill / max(size - saved, 1) * 10_000
        print(f"-- {size:,} blocks (filled {size - saved:,} saves in {fill:.1f} s, "
              f"{per_10k:.0f} s per 10,000: target {FILL_S_PER_10K:.0f} s)")
        saved = size
        report(f"save at {size:,}",
               timed(lambda i, size=size: Secret(value="x").save(f"new-{size}-{i}"), 50),
               SAVE_MS, unit="ms")
        report(f"save overwrite at {size:,}",
               timed(lambda i: Secret(value=f"o{i}").save("block-00001", overwrite=True), 50),
               SAVE_MS, unit="ms")
        report(f"load warm at {size:,}", timed(lambda i: Secret.load("block-00001"), 500),
               LOAD_MS, unit="ms")
        report(f"blocks ls at {size:,}", time_command([blocks, "ls"], runs=10), LS_S)
        report(f"blocks ls --json at {size:,}", time_command([blocks, "ls", "--json"], runs=5),
               1.0)


if __name__ == "__main__":
    main()
