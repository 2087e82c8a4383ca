"""Cached task results, kept in an ObjectStorageBlock so they outlive the process.

Results hold whatever a task returned, so a local cache is private: files 0600 in a 0700
`cache/` folder, whatever the umask. A result holding a secret (a secret type, or a value
read from a secret backend) is never cached, and a cache key holding a secret is hashed
before it names a file (see write_cached and _path).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from core_blocks.errors import SecretResultError
from core_blocks.secret_values import every_form, mask_known

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
    from core_blocks.settings import current, ensure_home
    from core_blocks.types.local_file_system import LocalFileSystem

    # The home first, 0700: the write would create it (and results/) with the umask's mode.
    home = ensure_home(current().home)
    return LocalFileSystem(basepath=str(home / "results"))


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
    """The object a key's result is kept in: the key itself when it is a safe file name and
    holds no secret (a secret must not become a file or object name), else its hash."""
    plain = _SAFE_KEY.match(key) and mask_known(key) == key
    name = key if plain else hashlib.sha256(key.encode()).hexdigest()
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
    """Store value under key; a value that cannot be pickled is logged and not cached.

    Raises SecretResultError for a value holding a secret: a cached copy would sit outside
    the secret backend, outliving the secret's rotation or deletion there.
    """
    expires = time.time() + expiration.total_seconds() if expiration is not None else None
    record = {"expires": expires, "created": time.time(), "value": value}
    try:
        payload = _pickle_without_secrets(record)
    except SecretResultError:
        raise
    except Exception as exc:
        logger.warning("Result not cached under %s: it cannot be pickled (%s).", _path(key), exc)
        return
    if any(form.encode() in payload for form in every_form()):
        raise SecretResultError(
            "The result holds a secret value read from a secret backend, and secrets are never "
            "written to the result cache. Return the block's saved name and load it where it "
            "is used, or leave out cache_key_fn."
        )
    local = _private_cache_folder(storage)
    path = storage.write_path(_path(key), payload)
    if local is not None:
        os.chmod(local / Path(path).name, 0o600)


def _pickle_without_secrets(record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    _NoSecretsPickler(buffer, protocol=5).dump(record)
    return buffer.getvalue()


class _NoSecretsPickler(pickle.Pickler):
    """A pickler that refuses pydantic secret types (SecretStr, SecretBytes, SecretDict…),
    wherever they sit: in a Block's secret field, a plain model, a dict, an object."""

    def __init__(self, file: Any, protocol: int) -> None:
        super().__init__(file, protocol=protocol)
        from pydantic import SecretBytes, SecretStr
        from pydantic.types import Secret

        self._secret_types = (SecretStr, SecretBytes, Secret)

    def reducer_override(self, obj: Any) -> Any:
        # Called for every object but plain containers and scalars, so it costs little.
        # An empty secret (a Webhook's default headers, say) holds nothing to keep out.
        if isinstance(obj, self._secret_types) and obj.get_secret_value():
            raise SecretResultError(
                f"The result holds a secret (a {type(obj).__name__}), and secrets are never "
                "written to the result cache. Return the block's saved name and load it where "
                "it is used, or leave out cache_key_fn."
            )
        return NotImplemented


def _private_cache_folder(storage) -> Path | None:
    """For a LocalFileSystem, its `cache/` folder made 0700 (created so, or tightened): the
    folder, not a umask, is what keeps other users from the results. None for other
    storage."""
    from core_blocks.types.local_file_system import LocalFileSystem

    if not isinstance(storage, LocalFileSystem):
        return None
    base = Path(storage.basepath).expanduser()
    if not base.exists():
        base.mkdir(mode=0o700, parents=True)  # created for the cache: private too
    folder = storage._resolve("cache")
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        os.chmod(folder, 0o700)
    return folder
