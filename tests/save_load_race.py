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
from dataclasses import dataclass

WRITER = '''
import sys, time
from core_blocks import Secret

Secret(value="value-0").save("raced", overwrite=True)  # imports and connections: not timed
print("ready", flush=True)
sys.stdin.readline()  # both are ready: go
until, saves = time.time() + float(sys.argv[1]), 0
while time.time() < until:
    saves += 1
    Secret(value=f"value-{saves}").save("raced", overwrite=True)
print(saves)
'''

LOADER = '''
import json, sys, time
from core_blocks import Secret

Secret.load("raced")  # imports and connections: not timed
print("ready", flush=True)
sys.stdin.readline()  # both are ready: go
until, loads, failures, seen = time.time() + float(sys.argv[1]), 0, [], set()
while time.time() < until:
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
    started = [
        subprocess.Popen([sys.executable, "-c", code, str(seconds)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env or dict(os.environ))
        for code, env in ((WRITER, writer_env), (LOADER, loader_env))]
    writer, loader = started
    try:
        # Each process first saves or loads once, untimed (imports, plugins, connections),
        # so a busy machine shortens neither run; then both start at once.
        for proc in started:
            ready = proc.stdout.readline()
            assert ready == "ready\n", ready + proc.communicate(timeout=60)[1]
        for proc in started:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        saved, writer_err = writer.communicate(timeout=seconds + 60)
        loaded, loader_err = loader.communicate(timeout=seconds + 60)
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert writer.returncode == 0, writer_err
    assert loader.returncode == 0, loader_err
    report = json.loads(loaded)
    return RaceResult(int(saved), report["loads"], report["failures"], report["values_seen"])
