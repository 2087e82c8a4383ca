"""Global concurrency limits shared by threads, async tasks and processes through the store
(the `blocks concurrency` CLI included): slots, leases, cancellation and contention.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from core_blocks import (
    concurrency,
)
from core_blocks.errors import ConcurrencyLimitNotFound, ConcurrencyTimeout
from core_blocks.runtime.concurrency import list_limits, set_limit
from core_blocks.store import get_store
from tests.helpers import BLOCKS, Peak, max_overlap

# Holds one slot of a limit `rounds` times, recording [entered, leaving] while holding it.
HOLDER_SCRIPT = '''
import json, sys, time
from core_blocks import concurrency

name, out, rounds, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
while time.time() < start:
    time.sleep(0.005)
with open(out, "w") as fh:
    for _ in range(rounds):
        with concurrency(name, lease_seconds=5):
            entered = time.time()
            time.sleep(0.3)
            fh.write(json.dumps([entered, time.time()]) + "\\n")
            fh.flush()
'''

# Takes the only slot with a 1 s lease, says so, and waits to be killed.
KILLED_SCRIPT = '''
import time
from core_blocks import concurrency

with concurrency("solo", lease_seconds=1):
    print("held", flush=True)
    time.sleep(60)
'''


def blocks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})


# -- global concurrency limits ------------------------------------------------------------------

def test_cli_set_ls_delete():
    """`blocks concurrency set|ls|delete` manage limits; ls shows held slots."""
    done = blocks("concurrency", "ls")
    assert done.returncode == 0 and "No concurrency limits set" in done.stdout
    done = blocks("concurrency", "set", "warehouse", "2")
    assert done.returncode == 0 and "warehouse set to 2" in done.stdout
    with concurrency("warehouse"):
        listed = json.loads(blocks("concurrency", "ls", "--json").stdout)
    assert listed == [{"name": "warehouse", "slots": 2, "active": 1, "holders": 1}]
    assert blocks("concurrency", "set", "warehouse", "5").returncode == 0
    table = blocks("concurrency", "ls")
    assert table.returncode == 0 and "warehouse" in table.stdout and "5" in table.stdout
    assert list_limits(get_store())[0]["slots"] == 5
    deleted = blocks("concurrency", "delete", "warehouse")
    assert deleted.returncode == 0 and "Deleted concurrency limit warehouse" in deleted.stdout
    assert json.loads(blocks("concurrency", "ls", "--json").stdout) == []


@pytest.mark.parametrize("args, code, text", [
    (("delete", "nothing"), 1, "No concurrency limit named 'nothing'"),
    (("set", "Bad_Name", "1"), 1, "concurrency limit name"),
    (("set", "ok", "-1"), 1, "The limit must be 0 or more slots, not -1"),
])
def test_cli_errors(args, code, text):
    """Unknown or invalid limits: exit 1 with one line on stderr; bad usage exits 2."""
    done = blocks("concurrency", *args)
    assert done.returncode == code, done.stderr
    assert text in done.stderr and "Traceback" not in done.stderr
    if code == 1:
        assert len(done.stderr.strip().splitlines()) == 1


def test_with_concurrency_waits_for_a_free_slot():
    """A second holder waits until the first releases; timeout_seconds gives up."""
    set_limit(get_store(), "one", 1)
    held = threading.Event()
    released = []

    def holder():
        with concurrency("one"):
            held.set()
            time.sleep(0.3)
            released.append(time.monotonic())

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    with pytest.raises(ConcurrencyTimeout, match="within 0.05 s"):
        with concurrency("one", timeout_seconds=0.05):
            pass
    with concurrency("one", timeout_seconds=5):
        acquired = time.monotonic()
    thread.join()
    assert acquired >= released[0]
    assert list_limits(get_store())[0]["active"] == 0


def test_async_with_concurrency():
    """`async with concurrency(...)` lets one coroutine in at a time with a limit of 1."""
    set_limit(get_store(), "loop", 1)
    intervals = []

    async def worker():
        async with concurrency("loop"):
            entered = time.time()
            await asyncio.sleep(0.15)
            intervals.append((entered, time.time()))

    async def main():
        await asyncio.gather(worker(), worker(), worker())

    asyncio.run(main())
    assert len(intervals) == 3 and max_overlap(intervals) == 1


def test_occupy_counts_slots():
    """occupy=N takes N slots; more than the limit has is an error naming the fix."""
    set_limit(get_store(), "pool", 3)
    with concurrency("pool", occupy=2):
        with concurrency("pool", occupy=1, timeout_seconds=1):
            assert list_limits(get_store())[0]["active"] == 3
        with pytest.raises(ConcurrencyTimeout):
            with concurrency("pool", occupy=2, timeout_seconds=0.05):
                pass
    with pytest.raises(ValueError, match="blocks concurrency set pool 4"):
        with concurrency("pool", occupy=4):
            pass
    with pytest.raises(ValueError, match="occupy must be 1 or more"):
        concurrency("pool", occupy=0)


def test_unknown_limit_name():
    """An unknown name fails at once, naming the limits that exist and how to set it."""
    set_limit(get_store(), "known", 1)
    with pytest.raises(ConcurrencyLimitNotFound) as caught:
        with concurrency("unknown", timeout_seconds=5):
            pass
    text = str(caught.value)
    assert "No concurrency limit named 'unknown'" in text and "(set: known)" in text
    assert "blocks concurrency set unknown N" in text

    async def main():
        async with concurrency("unknown"):
            pass

    with pytest.raises(ConcurrencyLimitNotFound, match="unknown"):
        asyncio.run(main())


def test_multi_name_acquire_that_must_wait_takes_nothing():
    """Waiting for several limits at once must not hold slots of the ones that had room."""
    store = get_store()
    set_limit(store, "a", 2)
    set_limit(store, "b", 1)
    with concurrency("b"):
        with pytest.raises(ConcurrencyTimeout):
            with concurrency(["a", "b"], timeout_seconds=0.3):
                pass
        active = {x["name"]: x["active"] for x in list_limits(store)}
        assert active == {"a": 0, "b": 1}, f"slots held by nobody: {active}"
    with concurrency("a", timeout_seconds=1):  # "a" must still have its slots
        pass


def test_limit_is_never_exceeded_by_three_processes(tmp_path):
    """Three processes share a limit of 2: never 3 holders at once, and 2 at once do occur."""
    set_limit(get_store(), "shared", 2)
    script = tmp_path / "holder.py"
    script.write_text(HOLDER_SCRIPT)
    start = time.time() + 0.5
    outs = [tmp_path / f"holder{i}.jsonl" for i in range(3)]
    procs = [subprocess.Popen([sys.executable, str(script), "shared", str(out), "3", str(start)],
                              env=dict(os.environ), stderr=subprocess.PIPE, text=True)
             for out in outs]
    for proc in procs:
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    intervals = [tuple(json.loads(line)) for out in outs for line in out.read_text().splitlines()]
    assert len(intervals) == 9
    assert max_overlap(intervals) == 2
    assert list_limits(get_store())[0]["active"] == 0


def test_killed_holder_frees_its_slot_after_the_lease(tmp_path):
    """A SIGKILLed holder's slot frees when its 1 s lease lapses: not before, not much after."""
    set_limit(get_store(), "solo", 1)
    script = tmp_path / "killed.py"
    script.write_text(KILLED_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held", proc.stderr.read()
        time.sleep(1.2)  # longer than the lease: the living holder keeps renewing it
        with pytest.raises(ConcurrencyTimeout):
            with concurrency("solo", timeout_seconds=0.2):
                pass
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    killed = time.monotonic()
    with concurrency("solo", timeout_seconds=10, lease_seconds=1):
        waited = time.monotonic() - killed
    assert 0.5 <= waited <= 3, waited


def test_acquire_and_release_on_any_store(any_store):
    """Acquire, wait, release and unknown names behave alike on SQLite and PostgreSQL."""
    store = get_store()
    set_limit(store, "db", 1)
    with pytest.raises(RuntimeError, match="inside"):
        with concurrency("db"):
            assert list_limits(store) == [
                {"name": "db", "slots": 1, "active": 1, "holders": 1}]
            with pytest.raises(ConcurrencyTimeout):
                with concurrency("db", timeout_seconds=0.1):
                    pass
            raise RuntimeError("error inside the block")
    assert list_limits(store)[0]["active"] == 0  # released despite the error
    with concurrency("db", timeout_seconds=1):
        pass
    with pytest.raises(ConcurrencyLimitNotFound, match="No concurrency limit named 'nope'"):
        with concurrency("nope"):
            pass
    listed = json.loads(blocks("concurrency", "ls", "--json").stdout)
    assert listed == [{"name": "db", "slots": 1, "active": 0, "holders": 0}]


# -- global concurrency limits: sharing, cancellation, lost leases and contention ---------------

# Takes the only slot with a 0.5 s lease, says so, then keeps running for `seconds` more.
STALLED_SCRIPT = '''
import sys, time
from core_blocks import concurrency

with concurrency("solo", lease_seconds=0.5):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
print("left", flush=True)
'''


def active_slots(store=None) -> dict[str, int]:
    return {x["name"]: x["active"] for x in list_limits(store or get_store())}


def wait_until(check, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_cancelled_async_acquire_frees_the_slot_it_took():
    """`async with` cancelled while its acquire runs in a thread: the slot it took is freed.

    Another writer holds the SQLite write lock, so the acquire waits in its thread; the waiting
    coroutine is cancelled, then the lock frees and the thread takes the slot nobody will use.
    """
    import sqlite3

    store = get_store()
    set_limit(store, "db", 1)
    blocker = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    unblock = threading.Timer(0.4, lambda: blocker.execute("COMMIT"))
    entered = []

    async def worker():
        async with concurrency("db"):
            entered.append(1)

    async def main():
        unblock.start()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(worker(), 0.1)
        await asyncio.sleep(0.6)  # the thread has acquired by now

    try:
        asyncio.run(main())
    finally:
        unblock.join()
        blocker.close()
    assert entered == []
    assert wait_until(lambda: active_slots(store) == {"db": 0}), active_slots(store)
    with concurrency("db", timeout_seconds=1):
        pass


def test_cancelled_async_acquire_while_waiting_for_room_takes_nothing():
    """Cancelling an `async with` that waits for a full limit leaves nothing held."""
    store = get_store()
    set_limit(store, "full", 1)

    async def main():
        async with concurrency("full"):
            waiter = asyncio.ensure_future(_enter_and_hold("full"))
            await asyncio.sleep(0.2)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
        assert active_slots(store) == {"full": 0}

    asyncio.run(main())


def test_async_acquire_cancelled_after_its_thread_took_the_slot():
    """Cancelled after the acquiring thread finished but before the coroutine resumed: freed."""
    store = get_store()
    set_limit(store, "late", 1)
    entered = []

    async def worker():
        async with concurrency("late"):
            entered.append(1)

    async def main():
        task = asyncio.ensure_future(worker())
        await asyncio.sleep(0)  # the acquire is now in its thread
        time.sleep(0.5)  # block the loop: the thread takes the slot, its result waits to land
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert entered == []
    assert wait_until(lambda: active_slots(store) == {"late": 0}), active_slots(store)


def test_entered_in_one_task_and_exited_in_another():
    """An `async with` in an async generator resumed by another task still frees its slot."""
    store = get_store()
    set_limit(store, "gen", 1)
    limit = concurrency("gen", timeout_seconds=2)

    async def holding():
        async with limit:
            yield

    async def main():
        held = holding()
        await asyncio.ensure_future(held.__anext__())
        assert active_slots(store) == {"gen": 1}
        await asyncio.ensure_future(held.aclose())

    asyncio.run(main())
    assert active_slots(store) == {"gen": 0}


async def _enter_and_hold(name):
    async with concurrency(name):
        await asyncio.sleep(10)


def test_one_instance_shared_by_threads():
    """One concurrency object used by six threads: each holds its own slot, all are freed."""
    store = get_store()
    set_limit(store, "api", 2)
    limit = concurrency("api")
    peak = Peak()
    errors = []

    def work():
        try:
            for _ in range(2):
                with limit:
                    with peak:
                        time.sleep(0.05)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and peak.peak == 2
    assert active_slots(store) == {"api": 0}


def test_one_instance_reentered():
    """Entering the same object twice (nested) holds two slots and frees both."""
    store = get_store()
    set_limit(store, "nest", 2)
    limit = concurrency("nest", timeout_seconds=1)
    with limit:
        with limit:
            assert active_slots(store) == {"nest": 2}
        assert active_slots(store) == {"nest": 1}
        with pytest.raises(RuntimeError):
            with limit:
                raise RuntimeError("inner error")
        assert active_slots(store) == {"nest": 1}
    assert active_slots(store) == {"nest": 0}


def test_one_instance_shared_by_async_tasks():
    """One concurrency object used by several coroutines at once: a limit of 2 holds."""
    store = get_store()
    set_limit(store, "aio", 2)
    limit = concurrency("aio")
    intervals = []

    async def worker():
        async with limit:
            entered = time.time()
            await asyncio.sleep(0.1)
            intervals.append((entered, time.time()))

    async def main():
        await asyncio.gather(*(worker() for _ in range(5)))

    asyncio.run(main())
    assert len(intervals) == 5 and max_overlap(intervals) == 2
    assert active_slots(store) == {"aio": 0}


def test_repeated_names_take_one_lease_each():
    """A name given twice counts once: ["a", "a"] with a limit of 1 gets in."""
    store = get_store()
    set_limit(store, "a", 1)
    with concurrency(["a", "a"], timeout_seconds=1):
        assert list_limits(store) == [{"name": "a", "slots": 1, "active": 1, "holders": 1}]
    assert active_slots(store) == {"a": 0}


def test_opposite_name_orders_do_not_deadlock(any_store):
    """Holders of ["a", "b"] and ["b", "a"] at once never fail (PostgreSQL: no deadlock)."""
    store = get_store()
    set_limit(store, "a", 5)
    set_limit(store, "b", 5)
    errors = []
    start = threading.Barrier(6)

    def loop(names):
        start.wait()
        try:
            for _ in range(60):
                with concurrency(names, timeout_seconds=30):
                    pass
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=loop, args=(names,))
               for names in (["a", "b"], ["b", "a"]) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert active_slots(store) == {"a": 0, "b": 0}


def test_a_conflict_while_acquiring_is_retried(monkeypatch):
    """A serialization failure or deadlock while acquiring means: no room now, try again."""
    import psycopg.errors

    from core_blocks.errors import StoreError
    from core_blocks.runtime import concurrency as module

    set_limit(get_store(), "retry", 1)
    real = module._acquire_all
    failures = [psycopg.errors.DeadlockDetected("deadlock detected"),
                psycopg.errors.SerializationFailure("could not serialize access")]

    def flaky(*args, **kwargs):
        if failures:
            try:
                raise failures.pop(0)
            except psycopg.Error as exc:
                raise StoreError(f"The block store failed: {exc}") from None
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "_acquire_all", flaky)
    with concurrency("retry", timeout_seconds=5):
        assert active_slots() == {"retry": 1}
    assert failures == [] and active_slots() == {"retry": 0}

    def broken(*args, **kwargs):
        raise StoreError("The block store failed: disk I/O error")

    monkeypatch.setattr(module, "_acquire_all", broken)
    with pytest.raises(StoreError, match="disk I/O error"):  # other errors still surface
        with concurrency("retry", timeout_seconds=5):
            pass


def test_a_lost_lease_is_reported(tmp_path):
    """A holder stalled past lease_seconds loses its slot to another: it logs a warning once."""
    set_limit(get_store(), "solo", 1)
    script = tmp_path / "stalled.py"
    script.write_text(STALLED_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), "1.5"], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held", proc.stderr.read()
        os.kill(proc.pid, signal.SIGSTOP)  # stalled: its leases are not renewed
        time.sleep(0.8)
        with concurrency("solo", timeout_seconds=5, lease_seconds=5):
            os.kill(proc.pid, signal.SIGCONT)
            out, err = proc.communicate(timeout=30)
            assert active_slots() == {"solo": 1}  # this holder's slot, untouched
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            proc.wait(timeout=10)
    assert out.split() == ["left"]
    lost = [line for line in err.splitlines() if "lost" in line.lower()]
    assert len(lost) == 1, err
    assert "'solo'" in lost[0] and "lease_seconds" in lost[0]
    assert active_slots() == {"solo": 0}


def test_renewal_after_a_release_does_not_report_a_lost_lease(caplog):
    """Leases released while the renewer runs are not reported as lost."""
    set_limit(get_store(), "quick", 1)
    with caplog.at_level("WARNING", logger="core_blocks.runs"):
        for _ in range(30):
            with concurrency("quick", lease_seconds=0.06, timeout_seconds=5):
                time.sleep(0.01)
        time.sleep(0.1)
    assert [r for r in caplog.records if "lost" in r.getMessage().lower()] == []


CONTENDER_SCRIPT = '''
import json, sys, threading, time
from core_blocks import concurrency

name, out, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
intervals, lock = [], threading.Lock()

def work():
    for _ in range(3):
        with concurrency(name, timeout_seconds=60):
            entered = time.time()
            time.sleep(0.05)
            left = time.time()
        with lock:
            intervals.append([entered, left])

threads = [threading.Thread(target=work) for _ in range(4)]
while time.time() < start:
    time.sleep(0.002)
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out, "w") as fh:
    json.dump(intervals, fh)
'''


def test_contended_limit_is_never_exceeded_by_threads(any_store):
    """Eight threads on a limit of 2, each taking it three times: never 3 holders at once."""
    store = get_store()
    set_limit(store, "tight", 2)
    peak = Peak()
    taken = []
    errors = []
    start = threading.Barrier(8)

    def work():
        start.wait()
        try:
            for _ in range(3):
                with concurrency("tight", timeout_seconds=60):
                    with peak:
                        time.sleep(0.05)
                    taken.append(1)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(taken) == 24
    assert peak.peak == 2, f"{peak.peak} holders of a limit of 2 at once"
    assert active_slots(store) == {"tight": 0}


def test_contended_limit_is_never_exceeded_by_processes(any_store, tmp_path):
    """Three processes of four threads on a limit of 2: never 3 holders at once."""
    store = get_store()
    set_limit(store, "tight", 2)
    script = tmp_path / "contender.py"
    script.write_text(CONTENDER_SCRIPT)
    start = time.time() + 1.0
    outs = [tmp_path / f"contender{i}.json" for i in range(3)]
    procs = [subprocess.Popen([sys.executable, str(script), "tight", str(out), str(start)],
                              env=dict(os.environ), stderr=subprocess.PIPE, text=True)
             for out in outs]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    intervals = [tuple(x) for out in outs for x in json.loads(out.read_text())]
    assert len(intervals) == 36
    assert max_overlap(intervals) == 2
    assert active_slots(store) == {"tight": 0}


def test_lease_expiry_is_stored_precisely(any_store):
    """A lease's expiry is stored to well under a second (PostgreSQL REAL is 4 bytes: ~128 s
    steps at today's epoch, so leases would lapse before they are taken or long after)."""
    store = get_store()
    set_limit(store, "exact", 1)
    with concurrency("exact", lease_seconds=30):
        expected = time.time() + 30
        (expires,), = store.query("SELECT expires FROM concurrency_leases")
    assert abs(expires - expected) < 1, f"stored {expires}, expected {expected:.3f}"
