"""Loading a block with an inline (anonymous) nested block while other processes overwrite it:
every load is one consistent version of the whole tree, and none fails (SQLite, PostgreSQL).
"""

import json
import os
import subprocess
import sys

from core_blocks.store import get_store

SECONDS = 6.0  # of overlap per store: long enough to hit the race thousands of times
WRITERS = 2
READERS = 2

# Each worker is a fresh interpreter running this script with the parent's environment
# (CORE_BLOCKS_HOME, CORE_BLOCKS_STORE_URL, CORE_BLOCKS_SECRET_KEY, ...).
WORKER = '''
import json, sys, time

from pydantic import SecretStr

from core_blocks import Block


class Login(Block):
    """The inline child: its secret and its plain field carry the parent's counter."""

    user: str
    token: SecretStr


class Bucket(Block):
    """The parent, saved by name; its child is never saved on its own."""

    n: int
    login: Login


def make(writer, n):
    return Bucket(n=n, login=Login(user=f"{writer}:{n}", token=f"t-{writer}:{n}"))


def write(me, until):
    saves = 0
    while time.time() < until:
        if saves % 2:  # a fresh inline child each time: the old child document is deleted
            make(me, saves).save("raw", overwrite=True)
        else:  # load, change, save again: the child is rewritten in place, its secret replaced
            while True:
                bucket = Bucket.load("raw")
                bucket.n = saves
                bucket.login.user = f"{me}:{saves}"
                bucket.login.token = f"t-{me}:{saves}"
                try:
                    bucket.save("raw", overwrite=True)
                    break
                except Exception as exc:
                    if type(exc).__name__ != "BlockConflictError":
                        raise
        saves += 1
    return {"saves": saves}


def read(me, until):
    loads, failures = 0, []
    while time.time() < until:
        try:
            bucket = Bucket.load("raw")
            writer_n = bucket.login.user
            assert bucket.login.token.get_secret_value() == f"t-{writer_n}", "torn tree"
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
        loads += 1
    return {"loads": loads, "failures": failures[:5], "failed": len(failures)}


role, me, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
Bucket.load("raw")  # imports and the store's connection: before the clock starts
print("ready", flush=True)
sys.stdin.readline()  # every worker is ready: go, together, for the most overlap
result = (write if role == "writer" else read)(me, time.time() + seconds)
print(json.dumps(result))
'''


def run(script):
    """Start every worker, wait until each has loaded once (start-up is not timed on a busy
    machine), then let them all go at once."""
    procs = [
        subprocess.Popen([sys.executable, str(script), role, str(i), str(SECONDS)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ))
        for role, count in (("writer", WRITERS), ("reader", READERS)) for i in range(count)
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()[-3000:]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"worker failed:\n{err[-3000:]}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results[:WRITERS], results[WRITERS:]


def test_loads_during_overwrites_always_see_one_whole_tree(any_store, tmp_path):
    """Writers overwrite a parent with an inline child; readers loading it never fail."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    # The store and the first version exist before the workers start.
    seed = subprocess.run([sys.executable, "-c", WORKER.split("\n\ndef write")[0]
                           + "\nmake(0, 0).save('raw')\n"],
                          capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert seed.returncode == 0, seed.stderr[-3000:]

    writers, readers = run(script)

    # The race needs many overwrites, not a fair share per writer: the load-change-save
    # writer can lose most conflicts to the blind one on a busy machine (seen: 6 against 609).
    assert sum(w["saves"] for w in writers) > 20 and all(w["saves"] for w in writers), writers
    assert sum(r["loads"] for r in readers) > 100, readers
    assert [r["failures"] for r in readers] == [[]] * READERS, readers
    # Replaced inline children were cleaned up: one parent, one child.
    assert len(get_store().list_documents(include_anonymous=True)) == 2
