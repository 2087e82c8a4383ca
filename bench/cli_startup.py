"""Cold wall time of `blocks --help` and `blocks ls`, each in a fresh process."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import report, scratch_home, time_command  # noqa: E402


def main() -> None:
    scratch_home()
    from core_blocks import Secret, String

    for i in range(10):
        Secret(value=f"s{i}").save(f"secret-{i}")
        String(value=f"v{i}").save(f"string-{i}")
    blocks = shutil.which("blocks") or str(Path(sys.executable).parent / "blocks")
    report("python -c pass (interpreter floor)", time_command([sys.executable, "-c", "pass"]), 0.25)
    report("blocks --help", time_command([blocks, "--help"]), 0.25)
    report("blocks ls (20 blocks)", time_command([blocks, "ls"]), 0.25)
    report("blocks ls --json (20 blocks)", time_command([blocks, "ls", "--json"]), 0.25)


if __name__ == "__main__":
    main()
