"""Cold wall time of `blocks` commands, each in a fresh process.

`--help` and `ls` read no plugin and no secret: their budget is 0.15 s. `types`, `inspect` and a
non-interactive `create` load the plugins (and `create` the secret backend): 0.3 s.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import report, scratch_home, time_command  # noqa: E402

FAST, LOADING = 0.15, 0.3


def main() -> None:
    scratch_home()
    from core_blocks import Secret, String

    for i in range(10):
        Secret(value=f"s{i}").save(f"secret-{i}")
        String(value=f"v{i}").save(f"string-{i}")
    blocks = shutil.which("blocks") or str(Path(sys.executable).parent / "blocks")
    report("python -c pass (interpreter floor)", time_command([sys.executable, "-c", "pass"]),
           FAST)
    report("blocks --help", time_command([blocks, "--help"]), FAST)
    report("blocks ls (20 blocks)", time_command([blocks, "ls"]), FAST)
    report("blocks ls --json (20 blocks)", time_command([blocks, "ls", "--json"]), FAST)
    report("blocks types", time_command([blocks, "types"]), LOADING)
    report("blocks inspect secret/secret-0", time_command([blocks, "inspect", "secret/secret-0"]),
           LOADING)
    report("blocks create string/x --set value=y --overwrite",
           time_command([blocks, "create", "string/x", "--set", "value=y", "--overwrite"]),
           LOADING)


if __name__ == "__main__":
    main()
