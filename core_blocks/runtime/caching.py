"""Cached task results, kept in an ObjectStorageBlock so they outlive the process."""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
import time
from datetime import timedelta
from typing import Any

logger = logging.getLogger("core_blocks.runs")

_SAFE_KEY = re.compile(r"^[A-Za-z0-9._-]{1,120}$")
MISS = object()  # read_cached's answer when there is no usable cached value


def task_input_hash(context: Any, arguments: dict[str, Any]) -> str | None:
    """A cache key from the task's identity and its arguments; None (no caching) if they
    cannot be hashed."""
    task = context.task
    try:
        payload = pickle.dumps((task.key, sorted(arguments.items())), protocol=5)
    except Exception:
        return None
    return hashlib.sha256(payload).hexdigest()


def default_result_storage():
    """A LocalFileSystem under $CORE_BLOCKS_HOME/results."""
    from core_blocks.settings import current
    from core_blocks.types.local_file_system import LocalFileSystem

    return LocalFileSystem(basepath=str(current().home / "results"))


def check_result_storage(storage: Any) -> None:
    """Refuse, when the task is defined, a result_storage that is not object storage."""
    from core_blocks.abstract import ObjectStorageBlock

    if storage is not None and not isinstance(storage, (str, ObjectStorageBlock)):
        raise TypeError(
            f"result_storage must be an ObjectStorageBlock (e.g. LocalFileSystem, S3Bucket) or "
            f"its 'type-slug/name', not {type(storage).__name__}."
        )


def resolve_storage(storage: Any):
    """An ObjectStorageBlock from a block, a "type-slug/name" reference, or None (default)."""
    from core_blocks.abstract import ObjectStorageBlock

    if storage is None:
        return default_result_storage()
    if isinstance(storage, str):
        from core_blocks.block import Block

        storage = Block.load(storage)
    if not isinstance(storage, ObjectStorageBlock):
        raise TypeError(
            f"result_storage must be an ObjectStorageBlock (e.g. LocalFileSystem, S3Bucket) or "
            f"its 'type-slug/name', not {type(storage).__name__}."
        )
    return storage


def _path(key: str) -> str:
    name = key if _SAFE_KEY.match(key) else hashlib.sha256(key.encode()).hexdigest()
    return f"cache/{name}.pickle"


def read_cached(storage, key: str) -> Any:
    """The cached value for key, or MISS when absent, expired or unreadable."""
    try:
        record = pickle.loads(storage.read_path(_path(key)))
    except Exception:
        return MISS
    expires = record.get("expires")
    if expires is not None and expires <= time.time():
        return MISS
    return record["value"]


def write_cached(storage, key: str, value: Any, expiration: timedelta | None) -> None:
    """Store value under key; a value that cannot be pickled is logged and not cached."""
    expires = time.time() + expiration.total_seconds() if expiration is not None else None
    try:
        payload = pickle.dumps({"expires": expires, "created": time.time(), "value": value},
                               protocol=5)
    except Exception as exc:
        logger.warning("Result not cached under %s: it cannot be pickled (%s).", key[:16], exc)
        return
    storage.write_path(_path(key), payload)
