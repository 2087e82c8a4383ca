"""Prefect 3's sync-or-async rule (core_blocks.dispatch): a value in sync code, an awaitable in
async code, on functions, tasks, Block.load/save/delete, in runs and in worker threads."""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading
import warnings

import pytest

from core_blocks import LocalFileSystem, Secret, flow, task
from core_blocks.dispatch import (
    PendingCall,
    async_dispatch,
    running_sync,
    threaded_dispatch,
    wants_awaitable,
)


async def _afetch(key: str) -> str:
    return f"async {key}"


@async_dispatch(_afetch)
def fetch(key: str) -> str:
    return f"sync {key}"


@pytest.fixture
def saved(block_home):
    Secret(value="s3cr3t").save("token")
    return "token"


def test_sync_code_gets_the_value():
    assert fetch("a") == "sync a"
    assert wants_awaitable() is False


def test_async_code_gets_an_awaitable():
    async def main():
        pending = fetch("a")
        assert inspect.isawaitable(pending)
        return await pending

    assert asyncio.run(main()) == "async a"


def test_sync_keyword_forces_either_side():
    async def main():
        return fetch("a", _sync=True)

    assert asyncio.run(main()) == "sync a"
    assert asyncio.run(fetch("b", _sync=False)) == "async b"


def test_aio_is_the_async_implementation():
    assert fetch.aio is _afetch
    assert asyncio.run(fetch.aio("c")) == "async c"


def test_awaitables_work_with_gather_and_create_task():
    async def main():
        task_ = asyncio.create_task(fetch("x"))
        return await asyncio.gather(fetch("y"), task_)

    assert asyncio.run(main()) == ["async y", "async x"]


def test_load_save_delete_are_awaited_in_async_code(saved):
    async def main():
        block = await Secret.load(saved)
        await Secret(value="other").save("second")
        second = await Secret.load.aio("second")
        await Secret.delete("second")
        return block.get(), second.get(), Secret.list()

    assert asyncio.run(main()) == ("s3cr3t", "other", [saved])


def test_load_and_save_aio_are_bound(saved):
    block = Secret.load(saved)

    async def main():
        await block.save.aio("copy")
        return (await Secret.load.aio("copy")).get()

    assert asyncio.run(main()) == "s3cr3t"


def test_a_prefixed_names_stay(saved):
    async def main():
        await (await Secret.aload(saved)).asave("copy")
        await Secret.adelete("copy")
        return Secret.list()

    assert asyncio.run(main()) == [saved]


def test_sync_flow_gets_values_and_async_flow_awaits(saved):
    @flow
    def sync_flow():
        return Secret.load(saved).get()

    @flow
    async def async_flow():
        return (await Secret.load(saved)).get()

    assert sync_flow() == "s3cr3t"
    assert asyncio.run(async_flow()) == "s3cr3t"


def test_sync_task_inside_an_async_flow_gets_values(saved):
    @task
    def read():
        return Secret.load(saved).get()

    @flow
    async def pipeline():
        return read(), read.submit().result()

    assert asyncio.run(pipeline()) == ("s3cr3t", "s3cr3t")


def test_async_task_inside_a_sync_flow_awaits(saved):
    @task
    async def aread():
        return (await Secret.load(saved)).get()

    @flow
    def pipeline():
        return aread.submit().result(), asyncio.run(aread())

    assert pipeline() == ("s3cr3t", "s3cr3t")


def test_worker_threads_of_async_code_get_values(saved):
    def helper():
        return Secret.load(saved).get()

    @flow
    async def pipeline():
        box = {}
        thread = threading.Thread(target=lambda: box.update(value=helper()))
        thread.start()
        thread.join()
        return box["value"], await asyncio.to_thread(helper)

    assert asyncio.run(pipeline()) == ("s3cr3t", "s3cr3t")


def test_sync_helper_called_from_async_code_fails_clearly(saved):
    """Prefect's issue #14625: a sync helper called from async code never silently gets an
    un-awaited coroutine; using the result says what to do."""

    def helper():
        return Secret.load(saved).get()

    async def main():
        with pytest.raises(AttributeError) as raised:
            helper()
        with running_sync():
            return str(raised.value), helper()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the awaitable dropped here
        message, value = asyncio.run(main())
        gc.collect()
    assert value == "s3cr3t"
    assert message.startswith("Secret.load() returned an awaitable")
    assert "await Secret.load(...)" in message and "_sync=True" in message


def test_a_dropped_awaitable_warns_what_to_do():
    async def main():
        fetch("dropped")
        gc.collect()

    gc.collect()  # earlier tests' garbage warns elsewhere
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(main())
    messages = [str(w.message) for w in caught if "fetch" in str(w.message)]
    assert messages == ["Never awaited: fetch() returned an awaitable because it was called "
                        "where an event loop runs. Write `await fetch(...)`, or pass "
                        "_sync=True to get the value in sync code."]


def test_sync_hook_of_an_async_flow_gets_values(saved):
    seen = []

    def hook(flow_, run, state):
        seen.append(Secret.load(saved).get())

    @flow(on_completion=[hook])
    async def pipeline():
        return 1

    asyncio.run(pipeline())
    assert seen == ["s3cr3t"]


def test_async_task_caches_in_a_saved_storage(block_home, tmp_path):
    LocalFileSystem(basepath=str(tmp_path / "cache")).save("cache")
    calls = []

    @task(cache_key_fn=lambda context, arguments: "fixed", result_storage="local-file-system/cache")
    async def compute():
        calls.append(1)
        return 42

    @flow
    async def pipeline():
        return await compute(), await compute()

    assert asyncio.run(pipeline()) == (42, 42)
    assert calls == [1]


@threaded_dispatch
@task(retries=1)
def double(x: int) -> int:
    return 2 * x


def test_threaded_dispatch_of_a_task():
    @flow
    def sync_flow():
        return double(2), double.submit(3).result()

    @flow
    async def async_flow():
        return await double(4), double(5, _sync=True), await double.aio(6)

    assert sync_flow() == (4, 6)
    assert asyncio.run(async_flow()) == (8, 10, 12)
    assert double.aio.name == double.name == "double"
    assert double.aio.retries == double.retries == 1
    assert isinstance(asyncio.run(_call_async(double)), int)


def test_a_dispatched_tasks_fn_follows_the_rule():
    async def in_async_code():
        pending = double.fn(7)
        assert isinstance(pending, PendingCall)
        return await pending, double.fn(8, _sync=True)

    assert double.fn(3) == 6
    assert asyncio.run(in_async_code()) == (14, 16)


async def _call_async(dispatched):
    pending = dispatched(1)
    assert isinstance(pending, PendingCall)
    return await pending


def test_local_file_system_reads_and_writes_by_the_rule(block_home, tmp_path):
    storage = LocalFileSystem(basepath=str(tmp_path / "files"))

    async def main():
        await storage.write_path("a.txt", b"async")
        return await storage.read_path("a.txt"), await storage.read_path.aio("a.txt")

    assert asyncio.run(main()) == (b"async", b"async")
    assert storage.write_path("a.txt", b"sync") == "a.txt"
    assert storage.read_path("a.txt") == b"sync"
