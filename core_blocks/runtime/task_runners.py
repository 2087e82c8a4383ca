"""Where submitted tasks run: a thread pool per flow run, and one shared outside flows."""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


def default_max_workers() -> int:
    """CORE_BLOCKS_TASK_RUNNER_MAX_WORKERS, else the standard library's default."""
    value = os.environ.get("CORE_BLOCKS_TASK_RUNNER_MAX_WORKERS")
    if value:
        try:
            workers = int(value)
        except ValueError:
            workers = 0
        if workers < 1:
            raise ValueError(
                f"CORE_BLOCKS_TASK_RUNNER_MAX_WORKERS={value!r} is not a positive whole number."
            )
        return workers
    return min(32, (os.cpu_count() or 1) + 4)


class Work:
    """One submitted call, run once: by a pool thread, or inline by whoever waits on it first.

    Running a not-yet-started task in the thread that waits for it is what keeps a task that
    submits tasks and waits on them from deadlocking a full (or one-thread) pool.
    """

    def __init__(self, fn: Callable[..., Any], args: tuple):
        self.fn = fn
        self.args = args
        self.context = contextvars.copy_context()  # tasks see their flow run as their parent
        self._claimed = False
        self._lock = threading.Lock()

    def claim(self) -> bool:
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    def run(self) -> Any:
        return self.context.run(self.fn, *self.args)

    def __call__(self) -> Any:
        return self.run() if self.claim() else None  # None: it was run inline


class ThreadPoolTaskRunner:
    """Runs submitted sync tasks on a pool of `max_workers` threads.

    A flow starts its runner when it begins and waits for every submitted task when it ends.
    """

    def __init__(self, max_workers: int | None = None):
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be 1 or more, not {max_workers}.")
        self.max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def duplicate(self) -> ThreadPoolTaskRunner:
        """A fresh runner with the same settings (each flow run gets its own)."""
        return type(self)(self.max_workers)

    def submit(self, fn: Callable[..., Any], *args: Any) -> tuple[Future, Work]:
        """Queue fn(*args); the Work can be claimed to run it inline instead (see TaskFuture)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.max_workers or default_max_workers(),
                    thread_name_prefix="core-blocks-task")
            work = Work(fn, args)
            return self._executor.submit(work), work

    def shutdown(self, wait: bool = True) -> None:
        """Wait for every submitted task, including those submitted while waiting."""
        while True:
            with self._lock:
                executor, self._executor = self._executor, None
            if executor is None:
                return
            executor.shutdown(wait=wait)
            if not wait:
                return

    def __repr__(self) -> str:
        return f"ThreadPoolTaskRunner(max_workers={self.max_workers})"


_shared: ThreadPoolTaskRunner | None = None


def _forget_parent_pool() -> None:
    global _shared
    _shared = None  # a forked child has none of the parent's pool threads


os.register_at_fork(after_in_child=_forget_parent_pool)


def shared_runner() -> ThreadPoolTaskRunner:
    """The runner for tasks submitted outside any flow."""
    global _shared
    if _shared is None:
        _shared = ThreadPoolTaskRunner()
    return _shared
