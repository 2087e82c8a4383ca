"""A Dask client inside a task or flow, for work on Dask collections (dataframes, bags).

Without one, a task on a worker computing a Dask collection runs it serially in that worker;
with one it spreads over the cluster.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any


def _client_kwargs(asynchronous: bool, timeout: Any, client_kwargs: dict[str, Any]
                   ) -> dict[str, Any]:
    """The scheduler this task's worker (or this flow's runner) uses, else a new local one."""
    from core_blocks.runtime.context import current_run

    kwargs: dict[str, Any] = {"asynchronous": asynchronous}
    try:
        from distributed import get_worker

        kwargs["address"] = get_worker().scheduler.address
    except ValueError:  # not on a worker: the flow's own runner, if it is a DaskTaskRunner
        context = current_run.get()
        runner = context.task_runner if context else None
        if getattr(runner, "remote", False):
            kwargs["address"] = runner.client.scheduler.address
            kwargs.update(runner.client_kwargs)
            kwargs.pop("set_as_default", None)
    if timeout is not None:
        kwargs["timeout"] = timeout
    kwargs.update(client_kwargs)
    return kwargs


@contextlib.contextmanager
def get_dask_client(timeout: int | float | str | timedelta | None = None,
                    **client_kwargs: Any) -> Iterator[Any]:
    """A temporary synchronous `distributed.Client` to the cluster running this task.

    `timeout` bounds connecting; `client_kwargs` override the runner's. Outside any Dask task
    or flow it starts a local cluster, so the same code runs in a test.

        @task
        def describe():
            with get_dask_client() as client:
                return client.compute(frame.describe()).result()
    """
    from distributed import Client

    with Client(**_client_kwargs(False, timeout, client_kwargs)) as client:
        yield client


@contextlib.asynccontextmanager
async def get_async_dask_client(timeout: int | float | str | timedelta | None = None,
                                **client_kwargs: Any) -> AsyncIterator[Any]:
    """get_dask_client for async tasks: an asynchronous client to `await` on.

        @task
        async def describe():
            async with get_async_dask_client() as client:
                return await client.compute(frame.describe())
    """
    from distributed import Client

    async with Client(**_client_kwargs(True, timeout, client_kwargs)) as client:
        yield client
