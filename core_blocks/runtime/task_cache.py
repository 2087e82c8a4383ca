"""A task run's use of the result cache: its key, the cached result, storing a new one.

The cache is an optimisation: any failure here is logged and the task runs uncached.
"""

from __future__ import annotations

import logging
from typing import Any

from core_blocks.dispatch import running_sync
from core_blocks.runtime import caching
from core_blocks.runtime.context import TaskRunContext
from core_blocks.runtime.history import Run

logger = logging.getLogger("core_blocks.runs")

Slot = tuple[Any, str]  # (storage, key): where one run's result is cached
MISS = caching.MISS


def lookup(task: Any, run: Run, parameters: dict[str, Any]) -> tuple[Slot | None, Any]:
    """Where this run's result is cached, (storage, key) or None, and the cached value (MISS
    when there is none to serve). The storage is resolved once per run: a "slug/name"
    reference is a block load."""
    key = _cache_key(task, run, parameters)
    if key is None:
        return None, MISS
    options = task.options
    try:
        with running_sync():  # an async task's lookup too: the storage's calls give values
            storage = caching.resolve_storage(options.result_storage)
            cached = MISS if options.refresh_cache else caching.read_cached(storage, key)
    except Exception as exc:
        logger.warning("Cached result of task %r could not be read (%s: %s); running it.",
                       options.name, type(exc).__name__, exc)
        return None, MISS
    return (storage, key), cached


def store(task: Any, slot: Slot | None, value: Any) -> None:
    """Cache a completed run's value in its slot (none: the task is not cached)."""
    if slot is None:
        return
    storage, key = slot
    try:
        with running_sync():
            caching.write_cached(storage, key, value, task.options.cache_expiration)
    except Exception as exc:
        logger.warning("Result of task %r was not cached (%s: %s).", task.options.name,
                       type(exc).__name__, exc)


def _cache_key(task: Any, run: Run, parameters: dict[str, Any]) -> str | None:
    options = task.options
    if options.cache_key_fn is None:
        return None
    try:
        key = options.cache_key_fn(TaskRunContext(task, run, parameters), parameters)
    except Exception as exc:  # the cache is an optimisation: run uncached, say why
        logger.warning("cache_key_fn of task %r failed (%s: %s); running without the cache.",
                       options.name, type(exc).__name__, exc)
        return None
    if key is not None and not isinstance(key, str):
        logger.warning("cache_key_fn of task %r returned a %s, not a str; running without the "
                       "cache.", options.name, type(key).__name__)
        return None
    return key
