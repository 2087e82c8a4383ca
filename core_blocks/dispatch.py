"""Prefect 3's sync-or-async rule: one name gives a value in sync code, an awaitable in async.

A dispatched name decides on each call (`wants_awaitable`):

1. `_sync=True` gives the value, `_sync=False` the awaitable, whatever the context;
2. no event loop running in the calling thread: the value (a worker thread, a plain
   `threading.Thread`, a sync script); likewise inside `with running_sync():`, which the
   runtime puts around the sync code it calls from a loop's thread (sync hooks, caching);
3. inside a task or flow run: the run's function decides, an async one gets the awaitable
   and a sync one the value (a sync task called from an async flow gets values);
4. outside any run, with an event loop running in this thread: the awaitable.

The async implementation is also the name's `.aio`. An awaitable that sync code forgot to
await fails clearly: reading an attribute of it raises an AttributeError that says to await
it or pass `_sync=True`, and dropping it warns (RuntimeWarning) with the same advice.

    >>> import asyncio
    >>> async def afetch(key):
    ...     return f"value of {key}"
    >>> @async_dispatch(afetch)
    ... def fetch(key):
    ...     return f"value of {key}"
    >>> fetch("a")
    'value of a'
    >>> async def main():
    ...     return await fetch("b"), fetch("c", _sync=True), await fetch.aio("d")
    >>> asyncio.run(main())
    ('value of b', 'value of c', 'value of d')

Methods and classmethods work alike (put `@async_dispatch(...)` above `@classmethod`), and so
do tasks: `threaded_dispatch(task)` pairs a sync task with an async twin that runs it in a
worker thread, keeping its options, and `.submit`/`.map` stay the sync task's. A dispatched
task's `.fn` (its function, run without the runtime) follows the rule too, so Prefect code's
`await some_task.fn(...)` works in async code and `some_task.fn(...)` in sync code.
"""

from __future__ import annotations

import functools
import sys
import types
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["Dispatched", "PendingCall", "async_dispatch", "in_thread", "running_sync",
           "threaded_dispatch", "wants_awaitable"]

_running_sync: ContextVar[bool] = ContextVar("core_blocks_running_sync", default=False)


def wants_awaitable(sync: bool | None = None) -> bool:
    """Whether a dispatched call here should return an awaitable (Prefect 3's rule, above)."""
    if sync is not None:
        return not sync
    asyncio = sys.modules.get("asyncio")  # not imported yet: no loop can be running
    if asyncio is None or asyncio._get_running_loop() is None or _running_sync.get():
        return False
    runs = sys.modules.get("core_blocks.runtime.context")  # not imported yet: no run either
    context = runs.current_run.get() if runs is not None else None
    return context is None or context.is_async


@contextmanager
def running_sync() -> Iterator[None]:
    """Within it, dispatched names return values even where an event loop runs.

    For sync code called from a loop's thread that cannot await: a sync hook of an async
    flow, a helper of an async framework. The runtime uses it for sync hooks and caching.
    """
    token = _running_sync.set(True)
    try:
        yield
    finally:
        _running_sync.reset(token)


def async_dispatch(async_impl: Callable[..., Any]) -> Callable[[Callable[..., Any]], Dispatched]:
    """Make the decorated sync function (or method, classmethod, task) return `async_impl`'s
    awaitable when called from async code, by the rule in this module's docstring."""
    return lambda sync_impl: Dispatched(sync_impl, async_impl)


def threaded_dispatch(sync_impl: Any) -> Dispatched:
    """async_dispatch with an async side that runs `sync_impl` in a worker thread: for a
    blocking function, method or sync task (the twin task keeps its name and options)."""
    if _is_task(sync_impl):
        twin = sync_impl.with_options()
        twin.fn, twin.is_async = in_thread(sync_impl.fn), True
        return Dispatched(sync_impl, twin)
    return Dispatched(sync_impl, in_thread(sync_impl))


def _is_task(obj: Any) -> bool:
    return hasattr(obj, "with_options") and hasattr(obj, "is_async")


def in_thread(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An async function that awaits `fn` in a worker thread: same arguments and result.

    The context (the run, its logging) goes along; no loop runs in that thread, so the
    dispatched names `fn` calls return values.
    """

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        import asyncio  # here: loading a module must not cost asyncio's import

        return await asyncio.to_thread(fn, *args, **kwargs)

    prefix, _, name = fn.__qualname__.rpartition(".")
    run.__name__ = f"a{fn.__name__}"
    run.__qualname__ = f"{prefix}.a{name}" if prefix else f"a{name}"
    run.__doc__ = f"`{fn.__name__}`, awaited: the call runs in a worker thread.\n\n" + (
        fn.__doc__ or "")
    return run


class Dispatched:
    """A name that returns a value or an awaitable per call; `.aio` is its async side.

    Attributes it lacks come from the sync side, so a dispatched task keeps `.submit`,
    `.map` and its options; its `.fn` is dispatched by the same rule.
    """

    def __init__(self, sync_impl: Any, async_impl: Any) -> None:
        self._on_class = isinstance(sync_impl, classmethod)
        self.sync_impl = getattr(sync_impl, "__func__", sync_impl)
        self.aio = getattr(async_impl, "__func__", async_impl)
        functools.update_wrapper(self, self.sync_impl, updated=())
        if _is_task(self.sync_impl) and _is_task(self.aio):
            self.fn = Dispatched(self.sync_impl.fn, self.aio.fn)

    def __call__(self, *args: Any, _sync: bool | None = None, **kwargs: Any) -> Any:
        if wants_awaitable(_sync):
            return PendingCall(self.aio(*args, **kwargs), self.__qualname__)
        if _sync:  # forced: the names the sync side calls give values too
            with running_sync():
                return self.sync_impl(*args, **kwargs)
        return self.sync_impl(*args, **kwargs)

    def _call_on(self, target: Any, args: tuple, kwargs: dict, sync: bool | None) -> Any:
        if wants_awaitable(sync):
            owner = target if self._on_class else type(target)
            return PendingCall(self.aio(target, *args, **kwargs),
                               f"{owner.__name__}.{self.__name__}")
        if sync:
            with running_sync():
                return self.sync_impl(target, *args, **kwargs)
        return self.sync_impl(target, *args, **kwargs)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        target = (owner if owner is not None else type(instance)) if self._on_class else instance
        return self if target is None else _Bound(self, target)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.sync_impl, name)

    def __repr__(self) -> str:
        return f"<dispatched {self.__qualname__}>"


class _Bound:
    """A Dispatched bound to an instance (a method) or to a class (a classmethod)."""

    __slots__ = ("__func__", "__self__")

    def __init__(self, func: Dispatched, target: Any) -> None:
        self.__func__, self.__self__ = func, target

    def __call__(self, *args: Any, _sync: bool | None = None, **kwargs: Any) -> Any:
        return self.__func__._call_on(self.__self__, args, kwargs, _sync)

    @property
    def aio(self) -> Any:
        return types.MethodType(self.__func__.aio, self.__self__)

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]  # help() shows the method's
        return self.__func__.__doc__

    @property
    def __signature__(self) -> Any:
        import inspect

        signature = inspect.signature(self.__func__.sync_impl)
        return signature.replace(parameters=list(signature.parameters.values())[1:])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__func__, name)

    def __repr__(self) -> str:
        return f"<bound dispatched {self.__func__.__qualname__} of {self.__self__!r}>"


class PendingCall(Coroutine):
    """The awaitable a dispatched name returns in async code: its coroutine, which tells
    sync code that forgot to await it what to do instead of failing obscurely."""

    def __init__(self, coroutine: Any, name: str) -> None:
        self._coroutine, self._name, self._taken = coroutine, name, False

    def _advice(self) -> str:
        return (f"{self._name}() returned an awaitable because it was called where an event "
                f"loop runs. Write `await {self._name}(...)`, or pass _sync=True to get the "
                f"value in sync code.")

    def __await__(self) -> Any:
        self._taken = True
        return self._coroutine.__await__()

    def send(self, value: Any) -> Any:
        self._taken = True
        return self._coroutine.send(value)

    def throw(self, *args: Any) -> Any:
        return self._coroutine.throw(*args)

    def close(self) -> None:
        self._coroutine.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("cr_") or name.startswith("__"):
            return getattr(self._coroutine, name)
        raise AttributeError(f"{self._advice()} (It has no attribute {name!r}.)")

    def __del__(self) -> None:
        coroutine = self.__dict__.get("_coroutine")
        if self.__dict__.get("_taken", True) or not isinstance(coroutine, types.CoroutineType):
            return
        if _never_started(coroutine):
            coroutine.close()  # never started: our warning replaces Python's vaguer one
            warnings.warn(f"Never awaited: {self._advice()}", RuntimeWarning, stacklevel=2)

    def __repr__(self) -> str:
        return f"<awaitable {self._name}()>"


def _never_started(coroutine: Any) -> bool:
    import inspect

    return inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED
