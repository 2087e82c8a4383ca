"""Small helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def scratch_home() -> Path:
    """A fresh CORE_BLOCKS_HOME with the file backend and its own key, set in os.environ."""
    from cryptography.fernet import Fernet

    home = Path(tempfile.mkdtemp(prefix="core-blocks-bench-"))
    os.environ.update(CORE_BLOCKS_HOME=str(home), CORE_BLOCKS_SECRET_BACKEND="file",
                      CORE_BLOCKS_SECRET_KEY=Fernet.generate_key().decode(),
                      CORE_BLOCKS_PLUGINS_DIRS="")
    os.environ.pop("CORE_BLOCKS_STORE_URL", None)
    return home


def time_command(argv: Sequence[str], runs: int = 20) -> list[float]:
    """Wall seconds of each of `runs` runs of a command (one untimed warm-up for the OS cache)."""
    subprocess.run(argv, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def report(label: str, seconds: list[float], target: float, unit: str = "s") -> None:
    scale = 1000.0 if unit == "ms" else 1.0
    median = statistics.median(seconds) * scale
    p90 = sorted(seconds)[int(len(seconds) * 0.9) - 1] * scale
    verdict = "meets" if median <= target else "MISSES"
    print(f"{label:<42} median {median:8.3f} {unit}  p90 {p90:8.3f} {unit}  "
          f"target {target} {unit}: {verdict}")


def trivial_flows() -> tuple:
    """Two flows over a trivial task: (sequential(n) calls it n times, submitted(n) submits
    n runs at once); both return the sum of 0..n-1."""
    from core_blocks import flow, task

    @task
    def trivial(x: int) -> int:
        return x

    @flow
    def sequential(n: int) -> int:
        return sum(trivial(i) for i in range(n))

    @flow
    def submitted(n: int) -> int:
        return sum(f.result() for f in [trivial.submit(i) for i in range(n)])

    return sequential, submitted
