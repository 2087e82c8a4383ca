"""Global concurrency limits: named slots shared by every process using one store.

A holder takes slots by inserting a lease that expires; a background thread renews the
leases this process holds, so a process that dies frees its slots when its leases lapse.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from core_blocks.errors import ConcurrencyLimitNotFound, ConcurrencyTimeout
from core_blocks.naming import check_name

logger = logging.getLogger("core_blocks.runs")
DEFAULT_LEASE_SECONDS = 30.0
_HOLDER = f"{socket.gethostname()}:{os.getpid()}"


# -- limits (the CLI) ------------------------------------------------------------------------

def set_limit(store, name: str, slots: int) -> None:
    check_name(name, "concurrency limit name")
    if slots < 0:
        raise ValueError(f"A concurrency limit takes 0 or more slots, not {slots}.")
    with store.transaction() as tx:
        tx.execute("INSERT INTO concurrency_limits (name, slots, updated) VALUES (?, ?, ?) "
                   "ON CONFLICT (name) DO UPDATE SET slots = excluded.slots, "
                   "updated = excluded.updated", (name, slots, time.time()))


def list_limits(store) -> list[dict[str, Any]]:
    """Each limit with the slots held by unexpired leases."""
    rows = store.query(
        "SELECT l.name, l.slots, COALESCE(SUM(c.occupy), 0), COUNT(c.id) "
        "FROM concurrency_limits l LEFT JOIN concurrency_leases c "
        "ON c.name = l.name AND c.expires > ? GROUP BY l.name, l.slots ORDER BY l.name",
        (time.time(),))
    return [{"name": n, "slots": s, "active": int(a), "holders": int(h)} for n, s, a, h in rows]


def delete_limit(store, name: str) -> None:
    with store.transaction() as tx:
        found = tx.execute("DELETE FROM concurrency_limits WHERE name = ? RETURNING name",
                           (name,)).fetchall()
        tx.execute("DELETE FROM concurrency_leases WHERE name = ?", (name,))
    if not found:
        raise ConcurrencyLimitNotFound(_missing(store, name))


def _missing(store, name: str) -> str:
    names = [r["name"] for r in list_limits(store)]
    return (f"No concurrency limit named {name!r} (set: {', '.join(names) or 'none'}). "
            f"Set it with: blocks concurrency set {name} N")


# -- leases ----------------------------------------------------------------------------------

class _NoRoom(Exception):
    pass


def _try_acquire(store, names: Sequence[str], occupy: int, lease_seconds: float
                 ) -> list[str] | None:
    """Lease ids for every name at once, or None when some limit has no room now."""
    try:
        return _acquire_all(store, names, occupy, lease_seconds)
    except _NoRoom:
        return None


def _acquire_all(store, names: Sequence[str], occupy: int, lease_seconds: float) -> list[str]:
    now = time.time()
    with store.transaction() as tx:
        leases = []
        for name in names:
            row = tx.execute("SELECT slots FROM concurrency_limits WHERE name = ?"
                             + tx.lock_rows(), (name,)).fetchone()
            if row is None:
                raise ConcurrencyLimitNotFound(_missing(store, name))
            if occupy > row[0]:
                raise ValueError(
                    f"occupy={occupy} is more than concurrency limit {name!r} has ({row[0]} "
                    f"slots); raise it with: blocks concurrency set {name} {occupy}")
            tx.execute("DELETE FROM concurrency_leases WHERE name = ? AND expires <= ?",
                       (name, now))
            used = tx.execute("SELECT COALESCE(SUM(occupy), 0) FROM concurrency_leases "
                              "WHERE name = ?", (name,)).fetchone()[0]
            if used + occupy > row[0]:
                raise _NoRoom  # rolls back the leases taken on the names before this one
            lease = uuid.uuid4().hex
            tx.execute("INSERT INTO concurrency_leases (id, name, occupy, holder, expires) "
                       "VALUES (?, ?, ?, ?, ?)", (lease, name, occupy, _HOLDER,
                                                  now + lease_seconds))
            leases.append(lease)
        return leases


def _release(store, leases: Sequence[str]) -> None:
    with store.transaction() as tx:
        for lease in leases:
            tx.execute("DELETE FROM concurrency_leases WHERE id = ?", (lease,))


class _Renewer:
    """Renews the leases this process holds, every third of their lease time."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[Any, float]] = {}  # lease id -> (store, lease_seconds)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, store, leases: Sequence[str], lease_seconds: float) -> None:
        with self._lock:
            for lease in leases:
                self._held[lease] = (store, lease_seconds)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="core-blocks-leases")
                self._thread.start()
        self._wake.set()

    def remove(self, leases: Sequence[str]) -> None:
        with self._lock:
            for lease in leases:
                self._held.pop(lease, None)

    def _loop(self) -> None:
        while True:
            with self._lock:
                held = dict(self._held)
            interval = min((s for _, s in held.values()), default=DEFAULT_LEASE_SECONDS) / 3
            self._wake.wait(interval)
            self._wake.clear()
            now = time.time()
            for lease, (store, seconds) in held.items():
                try:
                    with store.transaction() as tx:
                        tx.execute("UPDATE concurrency_leases SET expires = ? WHERE id = ?",
                                   (now + seconds, lease))
                except Exception as exc:
                    logger.warning("Could not renew concurrency lease %s: %s", lease[:8], exc)


_renewer = _Renewer()


def _forget_parent_leases() -> None:
    global _renewer, _HOLDER
    _renewer = _Renewer()  # the parent's leases stay the parent's; a forked child renews its own
    _HOLDER = f"{socket.gethostname()}:{os.getpid()}"


os.register_at_fork(after_in_child=_forget_parent_leases)


class concurrency:  # noqa: N801  (a context manager used like a function)
    """Hold `occupy` slots of the named limit(s) for the block: `with` or `async with`.

        with concurrency("warehouse", occupy=1):
            load_table()

    Waits while the limit is full (up to `timeout_seconds`, else forever). Set limits with
    `blocks concurrency set NAME N`. A crashed holder's slots free up after `lease_seconds`.
    """

    def __init__(self, names: str | Sequence[str], occupy: int = 1,
                 timeout_seconds: float | None = None,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS):
        self.names = [names] if isinstance(names, str) else list(names)
        if occupy < 1:
            raise ValueError(f"occupy must be 1 or more, not {occupy}.")
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be > 0, not {lease_seconds}.")
        self.occupy = occupy
        self.timeout_seconds = timeout_seconds
        self.lease_seconds = lease_seconds
        self._leases: list[str] = []
        self._store: Any = None

    def _attempt(self) -> bool:
        from core_blocks.store import get_store

        self._store = get_store()
        leases = _try_acquire(self._store, self.names, self.occupy, self.lease_seconds)
        if leases is None:
            return False
        self._leases = leases
        _renewer.add(self._store, leases, self.lease_seconds)
        return True

    def _timed_out(self, started: float) -> ConcurrencyTimeout | None:
        if self.timeout_seconds is not None and time.monotonic() - started >= self.timeout_seconds:
            return ConcurrencyTimeout(
                f"No {self.occupy} free slot(s) of concurrency limit {', '.join(self.names)} "
                f"within {self.timeout_seconds} s. Raise the limit or timeout_seconds.")
        return None

    def __enter__(self) -> concurrency:
        started, delay = time.monotonic(), 0.01
        while not self._attempt():
            error = self._timed_out(started)
            if error:
                raise error
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._free()

    async def __aenter__(self) -> concurrency:
        started, delay = time.monotonic(), 0.01
        while not await asyncio.to_thread(self._attempt):
            error = self._timed_out(started)
            if error:
                raise error
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.to_thread(self._free)

    def _free(self) -> None:
        leases, self._leases = self._leases, []
        _renewer.remove(leases)
        if leases:
            _release(self._store, leases)
