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
    """A cache key from the task's code (see code_fingerprint) and its arguments; None (no
    caching) when the arguments cannot be pickled."""
    task = context.task
    try:
        payload = pickle.dumps((code_fingerprint(task.fn), sorted(arguments.items())),
                               protocol=5)
    except Exception:
        return None
    return hashlib.sha256(payload).hexdigest()


def code_fingerprint(fn: Any) -> str:
    """What identifies a function's behaviour: its file, qualified name, code and closure.

    Two scripts' `load()` tasks, two closures from one factory, or one function before and
    after an edit get different fingerprints, so none is served another's cached result.
    """
    digest = hashlib.sha256()
    digest.update(f"{fn.__module__}.{fn.__qualname__}".encode())
    code = getattr(fn, "__code__", None)
    if code is not None:
        digest.update(code.co_filename.encode())
        _hash_code(code, digest)
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        inner = getattr(value, "__code__", None)
        if inner is not None:
            _hash_code(inner, digest)
        elif _is_constant(value):  # e.g. the multiplier a factory closed over
            digest.update(repr(value).encode())
        else:  # mutable state (a list it appends to, a client): its type, not its contents
            digest.update(type(value).__qualname__.encode())
    return digest.hexdigest()


def _is_constant(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return True
    return isinstance(value, (tuple, frozenset)) and all(_is_constant(v) for v in value)


def _hash_code(code: Any, digest: Any) -> None:
    digest.update(code.co_code)
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            _hash_code(const, digest)
        else:
            digest.update(repr(const).encode())
    digest.update(repr(code.co_names).encode())


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
