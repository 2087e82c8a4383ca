"""The block store, in SQLite or PostgreSQL: one module per owner of tables.

    database.py       connections, dialects, transactions, retries, errors, migration runner
    migrations.py     schema versions, and the owners contributing steps to each
    documents.py      block types, documents, references, secret journal (the Store class)
    document_rows.py  what those queries return and take
    runs.py           runs and their states: recording, heartbeats, listing, crashes, pruning
    artifacts.py      the artifacts runs attach
    concurrency.py    concurrency limits and the leases holding their slots

Nothing outside this package writes SQL against the store. `get_store()` is the Store of the
current settings, shared within a process; runs.py, artifacts.py and concurrency.py are
imported by the code that uses them, keeping them out of `blocks ls`.
"""

from __future__ import annotations

import os
import threading

from core_blocks.settings import Settings
from core_blocks.store.database import glob_to_like
from core_blocks.store.document_rows import REFS_KEY, DocumentRow, DocumentWrite, TypeRow
from core_blocks.store.documents import Store
from core_blocks.store.migrations import SCHEMA_VERSION
from core_blocks.store_url import describe_url

__all__ = ["REFS_KEY", "SCHEMA_VERSION", "DocumentRow", "DocumentWrite", "Store", "TypeRow",
           "describe_url", "get_store", "glob_to_like", "reset_stores"]

_stores: dict[tuple[int, str], Store] = {}
_stores_lock = threading.Lock()


def get_store(settings: Settings | None = None) -> Store:
    """The store for the current settings, shared within this process."""
    if settings is None:
        from core_blocks.settings import current

        settings = current()
    key = (os.getpid(), settings.store_url)  # a forked child opens its own connections
    store = _stores.get(key)
    if store is None:
        with _stores_lock:
            store = _stores.setdefault(key, Store(settings.store_url))
    return store


def reset_stores() -> None:
    """Close and forget every open store (tests switching homes call this)."""
    with _stores_lock:
        for store in _stores.values():
            try:
                store.close()
            except Exception:
                pass
        _stores.clear()
