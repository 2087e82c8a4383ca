"""Block.load of a flat block with a secret (file backend): warm in-process and fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import report, scratch_home, time_command  # noqa: E402

FRESH = "from core_blocks import Secret; assert Secret.load('db-password').get() == 'x' * 32"


def main() -> None:
    scratch_home()
    from core_blocks import Secret

    Secret(value="x" * 32).save("db-password")
    Secret.load("db-password")  # first load opens the store and decrypts the secret file
    warm = []
    for _ in range(2000):
        started = time.perf_counter()
        Secret.load("db-password")
        warm.append(time.perf_counter() - started)
    report("Secret.load warm (2,000 loads)", warm, 0.5, unit="ms")
    subprocess.run([sys.executable, "-c", FRESH], check=True, env=os.environ)
    report("fresh process: import + Secret.load", time_command([sys.executable, "-c", FRESH]), 0.3)


if __name__ == "__main__":
    main()
