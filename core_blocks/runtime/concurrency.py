"""Global concurrency limits: named slots shared by every process using one store.

A holder takes slots by inserting a lease that expires; a background thread renews the
leases this process holds, so a process that dies frees its slots when its leases lapse.
Expiry times are on the store's clock (the server's, on PostgreSQL), so hosts whose clocks
disagree still agree on when a lease lapsed.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

from core_blocks.errors import ConcurrencyLimitNotFound, ConcurrencyTimeout, StoreError
from core_blocks.naming import check_name

logger = logging.getLogger("core_blocks.runs")
DEFAULT_LEASE_SECONDS = 30.0
_HOLDER = f"{socket.gethostname()}:{os.getpid()}"


# -- limits (the CLI) ------------------------------------------------------------------------

def set_limit(store, name: str, slots: int) -> None:
    from core_blocks.store import concurrency as stored

    check_name(name, "concurrency limit name")
    if slots < 0:
        raise ValueError(f"A concurrency limit takes 0 or more slots, not {slots}.")
    stored.set_limit(store, name, slots)


def list_limits(store) -> list[dict[str, Any]]:
    """Each limit with the slots held by unexpired leases."""
    from core_blocks.store import concurrency as stored

    return stored.list_limits(store)


def delete_limit(store, name: str) -> None:
    from core_blocks.store import concurrency as stored

    if not stored.delete_limit(store, name):
        raise ConcurrencyLimitNotFound(_missing(store, name))


def _missing(store, name: str) -> str:
    names = [r["name"] for r in list_limits(store)]
    return (f"No concurrency limit named {name!r} (set: {', '.join(names) or 'none'}). "
            f"Set it with: blocks concurrency set {name} N")


# -- leases ----------------------------------------------------------------------------------

# SQLSTATEs of a PostgreSQL transaction that lost a race: serialization failure, deadlock.
_CONFLICT_STATES = frozenset({"40001", "40P01"})
_CONFLICT_TEXTS = ("deadlock detected", "could not serialize access")


def _is_conflict(exc: BaseException) -> bool:
    """True for a store error caused by a serialization failure or a deadlock."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "sqlstate", None) in _CONFLICT_STATES:
            return True
        error = error.__cause__ or error.__context__
    text = str(exc)
    return any(sign in text for sign in _CONFLICT_TEXTS)


def _try_acquire(store, names: Sequence[str], occupy: int, lease_seconds: float
                 ) -> dict[str, str] | None:
    """Lease id -> limit name for every name at once, or None when some limit has no room now
    (a transaction that lost a race with another holder counts as no room: try again)."""
    try:
        return _acquire_all(store, names, occupy, lease_seconds)
    except StoreError as exc:
        if _is_conflict(exc):
            return None
        raise


def _acquire_all(store, names: Sequence[str], occupy: int, lease_seconds: float
                 ) -> dict[str, str] | None:
    from core_blocks.store import concurrency as stored

    def too_many(name: str, slots: int) -> ValueError:
        return ValueError(f"occupy={occupy} is more than concurrency limit {name!r} has "
                          f"({slots} slots); raise it with: blocks concurrency set {name} {occupy}")

    return stored.take_leases(
        store, names, occupy, lease_seconds, _HOLDER, on_too_many=too_many,
        on_missing=lambda name: ConcurrencyLimitNotFound(_missing(store, name)))


def _release(store, leases: Sequence[str]) -> None:
    from core_blocks.store import concurrency as stored

    stored.release_leases(store, leases)


def _give_back(store, leases: Sequence[str]) -> None:
    """Stop renewing the leases, then delete them (in this order: see _Renewer._renew)."""
    _renewer.remove(leases)
    if leases:
        _release(store, leases)


class _Held:
    __slots__ = ("store", "seconds", "name", "due")

    def __init__(self, store, seconds: float, name: str, due: float):
        self.store, self.seconds, self.name, self.due = store, seconds, name, due


class _Renewer:
    """Renews the leases this process holds, each every third of its lease time."""

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}  # lease id -> what renews it, and when next
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, store, leases: dict[str, str], lease_seconds: float) -> None:
        due = time.monotonic() + lease_seconds / 3
        with self._lock:
            for lease, name in leases.items():
                self._held[lease] = _Held(store, lease_seconds, name, due)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="core-blocks-leases")
                self._thread.start()
        self._wake.set()  # the new leases may be due sooner than the renewer's next round

    def remove(self, leases: Sequence[str]) -> None:
        with self._lock:
            for lease in leases:
                self._held.pop(lease, None)

    def _loop(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                due = [(lease, held) for lease, held in self._held.items() if held.due <= now]
                wait = min((held.due for held in self._held.values()),
                           default=now + DEFAULT_LEASE_SECONDS / 3) - now
            for lease, held in due:
                self._renew(lease, held)
            if not due:
                self._wake.wait(max(wait, 0.0))
                self._wake.clear()

    def _renew(self, lease: str, held: _Held) -> None:
        from core_blocks.store import concurrency as stored

        held.due = time.monotonic() + held.seconds / 3
        try:
            renewed = stored.renew_lease(held.store, lease, held.seconds)
        except Exception as exc:
            held.due = time.monotonic() + min(held.seconds / 3, 1.0)  # try again soon
            logger.warning("Could not renew concurrency lease %s: %s", lease[:8], exc)
            return
        if renewed:
            return
        # Gone: released (then remove() ran first and it is no longer held), or it lapsed and
        # another holder deleted it to take the slot.
        with self._lock:
            lost = self._held.pop(lease, None) is not None
        if lost:
            logger.warning(
                "Lost the slot of concurrency limit %r held by this block: its lease lapsed "
                "because the holder kept running past lease_seconds=%g without renewing it "
                "(stalled or suspended), and another holder may have taken the slot. The "
                "block goes on without it; raise lease_seconds if holders stall that long.",
                held.name, held.seconds)


_renewer = _Renewer()


def _forget_parent_leases() -> None:
    global _renewer, _HOLDER
    _renewer = _Renewer()  # the parent's leases stay the parent's; a forked child renews its own
    _HOLDER = f"{socket.gethostname()}:{os.getpid()}"


os.register_at_fork(after_in_child=_forget_parent_leases)


class _Hold:
    """The leases one entry of a `concurrency` block took."""

    __slots__ = ("store", "leases", "pid")

    def __init__(self, store, leases: Sequence[str]):
        self.store, self.leases, self.pid = store, tuple(leases), os.getpid()


class _Handoff:
    """Passes the leases a worker thread took to the coroutine awaiting it, unless that
    coroutine was cancelled first: then the thread gives them back itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._abandoned = False
        self._taken: tuple[Any, dict[str, str]] | None = None

    def deliver(self, taken: tuple[Any, dict[str, str]]) -> bool:
        with self._lock:
            if self._abandoned:
                return False
            self._taken = taken
            return True

    def abandon(self) -> tuple[Any, dict[str, str]] | None:
        with self._lock:
            self._abandoned = True
            return self._taken


# The blocks entered in this thread or asyncio task, innermost last: (concurrency, _Hold).
_entered: contextvars.ContextVar[tuple[tuple[Any, _Hold], ...]] = contextvars.ContextVar(
    "core_blocks_concurrency_entered", default=())


class concurrency:  # noqa: N801  (a context manager used like a function)
    """Hold `occupy` slots of the named limit(s) for the block: `with` or `async with`.

        with concurrency("warehouse", occupy=1):
            load_table()

    Waits while the limit is full (up to `timeout_seconds`, else forever). Set limits with
    `blocks concurrency set NAME N`. A crashed holder's slots free up after `lease_seconds`.
    One object may be entered by several threads or tasks at once, and nested: each entry
    holds its own slots.
    """

    def __init__(self, names: str | Sequence[str], occupy: int = 1,
                 timeout_seconds: float | None = None,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS):
        self.names = list(dict.fromkeys([names] if isinstance(names, str) else names))
        if occupy < 1:
            raise ValueError(f"occupy must be 1 or more, not {occupy}.")
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be > 0, not {lease_seconds}.")
        self.occupy = occupy
        self.timeout_seconds = timeout_seconds
        self.lease_seconds = lease_seconds
        self._open: list[_Hold] = []  # every entry not yet exited, in any thread or task
        self._open_lock = threading.Lock()

    def _attempt(self, handoff: _Handoff | None = None) -> tuple[Any, dict[str, str]] | None:
        from core_blocks.store import get_store

        store = get_store()
        leases = _try_acquire(store, self.names, self.occupy, self.lease_seconds)
        if leases is None:
            return None
        _renewer.add(store, leases, self.lease_seconds)
        if handoff is not None and not handoff.deliver((store, leases)):
            _give_back(store, list(leases))  # nobody is waiting for these any more
            return None
        return store, leases

    def _timed_out(self, started: float) -> ConcurrencyTimeout | None:
        if self.timeout_seconds is not None and time.monotonic() - started >= self.timeout_seconds:
            return ConcurrencyTimeout(
                f"No {self.occupy} free slot(s) of concurrency limit {', '.join(self.names)} "
                f"within {self.timeout_seconds} s. Raise the limit or timeout_seconds.")
        return None

    def _push(self, store, leases: dict[str, str]) -> None:
        hold = _Hold(store, list(leases))
        with self._open_lock:
            self._open.append(hold)
        _entered.set(_entered.get() + ((self, hold),))

    def _pop(self) -> _Hold | None:
        """The leases of the innermost entry of this object in this thread or task; if it
        was entered elsewhere (another task's context), its latest entry not yet exited."""
        stack, mine = _entered.get(), None
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] is self:
                mine = stack[i][1]
                _entered.set(stack[:i] + stack[i + 1:])
                break
        with self._open_lock:
            for i in range(len(self._open) - 1, -1, -1):
                if self._open[i] is mine:
                    return self._open.pop(i)
            return self._open.pop() if self._open else None

    def __enter__(self) -> concurrency:
        started, delay = time.monotonic(), 0.01
        while True:
            taken = self._attempt()
            if taken is not None:
                break
            error = self._timed_out(started)
            if error:
                raise error
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        self._push(*taken)
        return self

    def __exit__(self, *exc: Any) -> None:
        hold = self._pop()
        if hold is not None and hold.pid == os.getpid():  # a forked child's copy: the parent's
            _give_back(hold.store, hold.leases)

    async def __aenter__(self) -> concurrency:
        started, delay = time.monotonic(), 0.01
        while True:
            taken = await self._attempt_in_thread()
            if taken is not None:
                break
            error = self._timed_out(started)
            if error:
                raise error
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        self._push(*taken)
        return self

    async def _attempt_in_thread(self) -> tuple[Any, dict[str, str]] | None:
        """One attempt in a worker thread. Cancelled while the thread runs, the slots it takes
        are given back: by the thread when it finishes, or here when it already has."""
        handoff = _Handoff()
        try:
            return await asyncio.to_thread(self._attempt, handoff)
        except asyncio.CancelledError:
            taken = handoff.abandon()
            if taken is not None:
                store, leases = taken
                _renewer.remove(list(leases))
                await _release_soon(store, list(leases))
            raise

    async def __aexit__(self, *exc: Any) -> None:
        hold = self._pop()
        if hold is not None and hold.pid == os.getpid():
            _renewer.remove(hold.leases)
            await _release_soon(hold.store, hold.leases)


async def _release_soon(store, leases: Sequence[str]) -> None:
    """Delete the leases in a worker thread; if this task is cancelled meanwhile, the thread
    still finishes the delete."""
    if leases:
        await asyncio.shield(asyncio.to_thread(_release, store, leases))
