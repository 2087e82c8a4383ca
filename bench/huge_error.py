"""A run that fails with a 20 MB exception message: how much the store grows, and how long
`blocks runs show` takes on it (the stored error, traceback and state message are capped).

CORE_BLOCKS_BENCH_ERROR_MB sets the message size (default 20).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import scratch_home  # noqa: E402

SIZE = int(float(os.environ.get("CORE_BLOCKS_BENCH_ERROR_MB", "20")) * 1_000_000)


def store_bytes(home: Path) -> int:
    """The SQLite store's size on disk, its write-ahead log included."""
    return sum(p.stat().st_size for p in home.glob("blocks.db*"))


def main() -> None:
    home = scratch_home()
    import logging

    logging.getLogger().addHandler(logging.NullHandler())  # the failed run's log line is huge
    from core_blocks import flow, get_run_context
    from core_blocks.runtime.history import flush

    run_ids = []

    @flow
    def warm_up() -> None:
        pass

    @flow
    def huge_error() -> None:
        run_ids.append(get_run_context().run.id)
        raise RuntimeError("x" * SIZE)

    warm_up()
    flush()
    before = store_bytes(home)
    started = time.perf_counter()
    try:
        huge_error()
    except RuntimeError:
        pass
    flush()
    recorded = time.perf_counter() - started
    growth = store_bytes(home) - before
    print(f"{SIZE / 1e6:g} MB exception: run and record {recorded:.2f} s, "
          f"store growth {growth / 1e6:.2f} MB")
    blocks = str(Path(sys.executable).with_name("blocks"))
    for args in (["runs", "show", run_ids[0]], ["runs", "show", run_ids[0], "--json"]):
        started = time.perf_counter()
        done = subprocess.run([blocks, *args], capture_output=True, timeout=3600)
        print(f"blocks {' '.join(args[:2] + args[3:]):<20} {time.perf_counter() - started:8.2f} s"
              f"  exit {done.returncode}, {len(done.stdout) / 1e6:.2f} MB of output")


if __name__ == "__main__":
    main()
