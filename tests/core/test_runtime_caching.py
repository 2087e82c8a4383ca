"""Cached task results: hits and misses, expiry, refresh, storage blocks, and two processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from pydantic import SecretBytes, SecretStr

from core_blocks import (
    LocalFileSystem,
    Secret,
    SecretDict,
    StateType,
    String,
    Webhook,
    flow,
    task,
    task_input_hash,
)

# Run twice as separate processes: the second must be served from the first one's cache.
CACHED_SCRIPT = '''
import json, sys
from pathlib import Path

from core_blocks import task, task_input_hash

side_effects = Path(sys.argv[1])
storage = sys.argv[2] or None


@task(cache_key_fn=task_input_hash, result_storage=storage)
def expensive(n):
    with side_effects.open("a") as fh:
        fh.write(f"{n}\\n")
    return {"n": n, "square": n * n}


state = expensive(int(sys.argv[3]), return_state=True)
print(json.dumps({"value": state.result(), "state": state.name}))
'''


def counting_task(**options):
    """A cached task that records each real call and returns the call count."""
    calls: list = []

    @task(cache_key_fn=task_input_hash, **options)
    def stamp(x, y=1):
        calls.append((x, y))
        return len(calls)

    return stamp, calls


def cache_files(folder) -> list:
    return sorted((folder / "cache").glob("*.pickle")) if (folder / "cache").is_dir() else []


def test_cache_hit_and_miss(block_home):
    """Same inputs hit the cache (state name Cached); other inputs run the function."""
    stamp, calls = counting_task()
    assert stamp(1) == 1
    state = stamp(1, return_state=True)
    assert state.type is StateType.COMPLETED and state.name == "Cached" and state.result() == 1
    assert stamp(x=1, y=1) == 1  # bound by name: the same inputs
    assert stamp(2) == 2 and stamp(1, y=2) == 3
    assert calls == [(1, 1), (2, 1), (1, 2)]
    assert len(cache_files(block_home / "results")) == 3  # the default storage


def test_cache_expiration(block_home):
    """An expired entry is a miss: the function runs again."""
    stamp, calls = counting_task(cache_expiration=timedelta(seconds=0.3))
    assert stamp(5) == 1 and stamp(5) == 1
    time.sleep(0.35)
    state = stamp(5, return_state=True)
    assert state.name == "Completed" and state.result() == 2
    assert stamp(5) == 2 and len(calls) == 2


def test_refresh_cache_runs_and_replaces_the_entry():
    """refresh_cache=True always runs and stores the new value for later callers."""
    stamp, calls = counting_task()
    assert stamp(7) == 1
    refreshing = stamp.with_options(refresh_cache=True)
    assert refreshing(7) == 2 and refreshing(7) == 3
    assert stamp(7) == 3 and len(calls) == 3


def test_failed_runs_are_not_cached():
    """Only a completed result is cached."""
    calls = []

    @task(cache_key_fn=task_input_hash)
    def shaky(x):
        calls.append(x)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return x

    assert shaky(3, return_state=True).is_failed()
    assert shaky(3) == 3 and shaky(3) == 3 and len(calls) == 2


def test_no_key_means_no_caching():
    """Unpicklable inputs (no task_input_hash key) and a key fn returning None never cache."""
    stamp, calls = counting_task()
    lock = threading.Lock()
    assert stamp(lock) == 1 and stamp(lock) == 2
    seen = []

    @task(cache_key_fn=lambda context, arguments: seen.append(context.task.name))
    def plain(x):
        return len(seen)

    assert plain(1) == 1 and plain(1) == 2 and seen == ["plain", "plain"]


def test_cache_keys_differ_between_tasks():
    """Two tasks called with the same arguments do not share cache entries."""
    @task(cache_key_fn=task_input_hash)
    def one(x):
        return "one"

    @task(cache_key_fn=task_input_hash)
    def two(x):
        return "two"

    assert one(1) == "one" and two(1) == "two" and one(1) == "one"


def test_async_task_cache_and_cached_state_in_a_flow():
    """Async tasks cache too; in a flow the cached run is recorded as Cached."""
    calls = []

    @task(cache_key_fn=task_input_hash)
    async def fetch(url):
        calls.append(url)
        return url.upper()

    @flow
    async def pipeline():
        first = await fetch("a")
        second = await fetch("a", return_state=True)
        return first, second.name

    assert asyncio.run(pipeline()) == ("A", "Cached")
    assert calls == ["a"]


def test_result_storage_block(tmp_path, block_home):
    """result_storage=LocalFileSystem(...) holds the entries; deleting one is a miss."""
    storage = LocalFileSystem(basepath=str(tmp_path / "store"))
    stamp, calls = counting_task(result_storage=storage)
    assert stamp(1) == 1 and stamp(1) == 1
    (entry,) = cache_files(tmp_path / "store")
    assert not (block_home / "results").exists()
    entry.unlink()
    assert stamp(1) == 2 and len(calls) == 2


def test_result_storage_saved_block_reference(tmp_path):
    """result_storage="local-file-system/name" loads the saved block when the task runs."""
    LocalFileSystem(basepath=str(tmp_path / "saved")).save("task-results")
    stamp, calls = counting_task(result_storage="local-file-system/task-results")
    assert stamp(9) == 1 and stamp(9) == 1 and len(calls) == 1
    assert len(cache_files(tmp_path / "saved")) == 1


def test_a_failing_cache_key_fn_runs_the_task_uncached_with_a_warning(caplog):
    """The cache is an optimisation: a broken key function is logged, never fatal."""
    calls = []

    @task(cache_key_fn=lambda context, arguments: 1 / 0)
    def double(x):
        calls.append(x)
        return 2 * x

    with caplog.at_level("WARNING", logger="core_blocks.runs"):
        assert double(2) == 4 and double(2) == 4
    assert calls == [2, 2]
    assert "cache_key_fn of task 'double' failed (ZeroDivisionError" in caplog.text


def test_result_storage_of_the_wrong_type_is_refused():
    """A result_storage that is not object storage is refused when the task is defined."""
    with pytest.raises(TypeError, match="result_storage must be an ObjectStorageBlock"):
        counting_task(result_storage=42)


@pytest.mark.parametrize("storage", ["", "local-file-system/shared-results"])
def test_cache_is_shared_between_processes(tmp_path, block_home, storage):
    """A result cached by one process is served to another without running the function."""
    if storage:
        LocalFileSystem(basepath=str(tmp_path / "shared")).save("shared-results")
    script = tmp_path / "cached_job.py"
    script.write_text(CACHED_SCRIPT)
    side = tmp_path / "calls.txt"

    def run(n: int) -> dict:
        done = subprocess.run([sys.executable, str(script), str(side), storage, str(n)],
                              capture_output=True, text=True, env=dict(os.environ), timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert run(7) == {"value": {"n": 7, "square": 49}, "state": "Completed"}
    assert run(7) == {"value": {"n": 7, "square": 49}, "state": "Cached"}
    assert run(8)["state"] == "Completed"
    assert side.read_text().split() == ["7", "8"]
    folder = tmp_path / "shared" if storage else block_home / "results"
    assert len(cache_files(folder)) == 2


# -- privacy: modes and secrets ------------------------------------------------------------------


@pytest.fixture
def open_umask():
    """umask 000: files and folders are created as open as their creator asks."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_cached_results_are_private_whatever_the_umask(open_umask, block_home, tmp_path):
    """0600 files in a 0700 cache folder, for the default storage in a home that already
    existed as 0755 and for a LocalFileSystem in a shared 0755 folder (left as it is)."""
    os.chmod(block_home, 0o755)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    (shared / "cache").mkdir(mode=0o777)  # left open by an older version: tightened
    fresh = tmp_path / "new" / "results"
    for storage, folder in ((None, block_home / "results"),
                            (LocalFileSystem(basepath=str(shared)), shared),
                            (LocalFileSystem(basepath=str(fresh)), fresh)):
        stamp, _ = counting_task(result_storage=storage)
        assert stamp(1) == 1 and stamp(1) == 1  # cached, then served from the cache
        files = cache_files(folder)
        assert files and {mode(f) for f in files} == {0o600}, folder
        assert mode(folder / "cache") == 0o700, folder
    assert mode(shared) == 0o755  # the user's own folder
    assert mode(fresh) == 0o700  # made for the cache


@pytest.mark.parametrize("result", [
    lambda c: SecretStr(c),
    lambda c: {"rows": [1, 2], "login": {"password": SecretBytes(c.encode())}},
    lambda c: Secret(value=c),
    lambda c: [Webhook(url=f"https://hooks.example.invalid/{c}")],
], ids=["secret-str", "secret-bytes-deep-in-a-dict", "block", "block-in-a-list"])
def test_a_result_holding_a_secret_is_not_cached(result, canary, block_home, caplog):
    """Never written, with a warning naming the task and what to do; the task still returns
    its result, and runs again next time."""
    calls = []

    @task(cache_key_fn=task_input_hash)
    def fetch_login(n):
        calls.append(n)
        return result(canary)

    assert fetch_login(1) is not None and fetch_login(1) is not None
    assert len(calls) == 2
    warning = "\n".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "'fetch_login' was not cached" in warning and "never written" in warning
    assert "Return the block's saved name" in warning
    assert canary not in caplog.text
    assert cache_files(block_home / "results") == []


def test_a_block_without_secret_values_is_cached(block_home):
    """Blocks as such are fine: only secret values (not empty ones) keep a result out of the
    cache."""
    calls = []

    @task(cache_key_fn=task_input_hash)
    def settings(n):
        calls.append(n)
        return String(value="eu-west-1"), {"headers": SecretDict({})}

    assert settings(1)[0].value == "eu-west-1" and settings(1)[0].value == "eu-west-1"
    assert len(calls) == 1
    assert len(cache_files(block_home / "results")) == 1
