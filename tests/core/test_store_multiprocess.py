"""Several processes saving and loading the same and different blocks at once (SQLite store,
encrypted-file secrets): nothing fails, no write is lost, every load is a complete document.
"""

import json
import os
import subprocess
import sys
import time

from core_blocks.store import get_store
from tests.helpers import file_backend_secrets

WORKERS = 4
ROUNDS = 100
OWN_NAMES = 4

# Each worker is a fresh interpreter running this script with the parent's environment
# (CORE_BLOCKS_HOME, CORE_BLOCKS_SECRET_KEY, CORE_BLOCKS_SECRET_BACKEND=file).
WORKER = '''
import json, random, sys, time

from pydantic import SecretStr

from core_blocks import Block


class Tick(Block):
    """Every field carries the same counter, the secret included."""

    writer: int
    n: int
    label: str
    copies: list[int]
    token: SecretStr


def make(writer, n):
    return Tick(writer=writer, n=n, label=f"w{writer}-n{n}", copies=[n, n, n],
                token=f"{writer}:{n}")


def check(tick):
    w, n = tick.writer, tick.n
    assert tick.label == f"w{w}-n{n}" and tick.copies == [n, n, n], f"torn document {tick!r}"
    assert tick.token.get_secret_value() == f"{w}:{n}", f"secret of another save in {tick!r}"


def main(me, workers, rounds, own_names, start):
    rng = random.Random(me)
    while time.time() < start:  # start together, for the most overlap
        time.sleep(0.001)
    own, shared, seen, loads = {}, [], {}, 0
    for n in range(rounds):
        name = f"w{me}-{n % own_names}"
        make(me, n).save(name, overwrite=True)
        own[name] = n
        mine = Tick.load(name)
        check(mine)
        assert (mine.writer, mine.n) == (me, n), f"{name}: wrote {n}, read {mine!r}"
        if n == 0 or n % 2 == me % 2:  # everyone writes it first, then by turns
            make(me, n).save("shared", overwrite=True)
            shared.append(n)
        for ref in (rng.choice(Tick.list()), "shared"):
            got = Tick.load(ref)
            check(got)
            key = f"{ref}:{got.writer}"
            assert got.n >= seen.get(key, -1), f"{ref} went back from {seen[key]} to {got.n}"
            seen[key] = got.n
            loads += 1
    print(json.dumps({"own": own, "shared": shared, "loads": loads}))


main(*map(int, sys.argv[1:5]), float(sys.argv[5]))
'''


def run_workers(script, count, args, start):
    procs = [
        subprocess.Popen([sys.executable, str(script), str(i), *map(str, args), str(start)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ))
        for i in range(count)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"worker failed:\n{err[-3000:]}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_processes_saving_and_loading_at_once_lose_nothing(block_home, tmp_path):
    """4 processes x 100 rounds of saves and loads of their own, each other's and one shared
    name: no worker fails, no load is torn, the last writes are what loads at the end."""
    assert os.environ["CORE_BLOCKS_SECRET_BACKEND"] == "file"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    get_store().schema_version()  # the store exists before the workers start

    started = time.monotonic()
    results = run_workers(script, WORKERS, (WORKERS, ROUNDS, OWN_NAMES), time.time() + 1.0)
    assert time.monotonic() - started < 60

    assert all(r["loads"] == 2 * ROUNDS for r in results)
    finals = _load_all(tmp_path)
    for me, result in enumerate(results):
        assert result["own"] == {f"w{me}-{k}": ROUNDS - OWN_NAMES + k for k in range(OWN_NAMES)}
        for name, n in result["own"].items():
            assert finals[name] == [me, n, f"w{me}-n{n}", [n] * 3, f"{me}:{n}"], name
    writer, n = finals["shared"][:2]
    # Each worker's saves of "shared" are ordered, so the survivor is some worker's last one.
    assert n == results[writer]["shared"][-1]
    assert finals["shared"] == [writer, n, f"w{writer}-n{n}", [n] * 3, f"{writer}:{n}"]

    store = get_store()
    assert store.count_documents() == WORKERS * OWN_NAMES + 1
    assert store.journal() == []
    # Every replaced secret was deleted, and every document's secret is there.
    held = set(file_backend_secrets(block_home))
    assert held == {r.secret_key for r in store.list_documents()}


def _load_all(tmp_path):
    """Every Tick as [writer, n, label, copies, secret], loaded by a fresh process."""
    code = ("import json, runpy, sys\n"
            "ns = runpy.run_path(sys.argv[1], run_name='tick')\n"
            "Tick = ns['Tick']\n"
            "print(json.dumps({name: [t.writer, t.n, t.label, t.copies,\n"
            "                  t.token.get_secret_value()]\n"
            "                  for name in Tick.list() for t in [Tick.load(name)]}))\n")
    module = tmp_path / "tick.py"
    module.write_text(WORKER.split("\n\ndef main")[0])
    out = subprocess.run([sys.executable, "-c", code, str(module)], capture_output=True,
                         text=True, env=dict(os.environ), timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)
