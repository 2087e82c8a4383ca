"""One process overwrites a saved secret in a loop while another loads it: how many loads fail.

A save writes the new secret under a new key, points the document at it, then deletes the old
key; a load that read the document just before may find its key deleted. Every backend must
report such a key as absent (the load then reads the document again), never fail the load.
Both processes get the caller's environment (home, secret backend and its settings).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

WRITER = '''
import sys, time
from core_blocks import Secret

start, seconds = float(sys.argv[1]), float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
saves = 0
while time.time() < start + seconds:
    saves += 1
    Secret(value=f"value-{saves}").save("raced", overwrite=True)
print(saves)
'''

LOADER = '''
import json, sys, time
from core_blocks import Secret

start, seconds = float(sys.argv[1]), float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
loads, failures, seen = 0, [], set()
while time.time() < start + seconds:
    loads += 1
    try:
        value = Secret.load("raced").get()
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
        continue
    assert value.startswith("value-"), value
    seen.add(value)
print(json.dumps({"loads": loads, "failures": failures, "values_seen": len(seen)}))
'''


@dataclass
class RaceResult:
    saves: int
    loads: int
    failures: list[str]
    values_seen: int  # distinct values the loader got: >1 shows the two really overlapped

    def __str__(self) -> str:
        return (f"{len(self.failures)} of {self.loads} loads failed during {self.saves} saves; "
                f"first failures: {self.failures[:3]}")


def overwrite_while_loading(seconds: float = 3.0, writer_env: dict[str, str] | None = None,
                            loader_env: dict[str, str] | None = None) -> RaceResult:
    """Save secret/raced once, then overwrite it from one process while another loads it, for
    `seconds`; each process gets its env (default: this process's environment)."""
    from core_blocks import Secret

    Secret(value="value-0").save("raced", overwrite=True)
    start = str(time.time() + 3)  # both interpreters are up by then, even on a busy machine
    argv = [start, str(seconds)]
    writer = subprocess.Popen([sys.executable, "-c", WRITER, *argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=writer_env or dict(os.environ))
    loader = subprocess.Popen([sys.executable, "-c", LOADER, *argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=loader_env or dict(os.environ))
    limit = seconds + 60
    saved, writer_err = writer.communicate(timeout=limit)
    loaded, loader_err = loader.communicate(timeout=limit)
    assert writer.returncode == 0, writer_err
    assert loader.returncode == 0, loader_err
    report = json.loads(loaded)
    return RaceResult(int(saved), report["loads"], report["failures"], report["values_seen"])
