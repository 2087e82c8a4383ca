"""`in_thread`: the async twin of a blocking method, run in a worker thread.

boto3 blocks; an `a`-prefixed method runs its sync twin with `asyncio.to_thread` so an event
loop keeps serving other work meanwhile. The run context (task run, logging) goes along, as
`to_thread` copies context variables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def in_thread(method: Callable[..., Any]) -> Callable[..., Any]:
    """An async method that awaits `method` in a worker thread, same arguments and result."""

    @functools.wraps(method)
    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        import asyncio  # here: loading the block types must not cost asyncio's import

        return await asyncio.to_thread(method, self, *args, **kwargs)

    run.__name__ = f"a{method.__name__}"
    run.__qualname__ = run.__qualname__.rsplit(".", 1)[0] + f".a{method.__name__}"
    run.__doc__ = f"`{method.__name__}`, awaited: the call runs in a worker thread.\n\n" + (
        method.__doc__ or "")
    return run
