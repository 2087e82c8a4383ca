"""Global concurrency limits (slots per name) and the leases holding their slots: the tables,
and every query on them (core_blocks.runtime.concurrency takes and renews leases here).

Expiry times are on the store's clock (the server's, on PostgreSQL), so hosts whose clocks
disagree still agree on when a lease lapsed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

# Schema version -> statements (see core_blocks.store.migrations); never edit a released one.
MIGRATIONS: dict[int, list[str]] = {
    2: [
        """CREATE TABLE concurrency_limits (
            name TEXT PRIMARY KEY,
            slots INTEGER NOT NULL,
            updated DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE concurrency_leases (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            occupy INTEGER NOT NULL,
            holder TEXT NOT NULL,
            expires DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX concurrency_leases_name ON concurrency_leases (name)",
    ],
}


class _NoRoom(Exception):
    pass


def set_limit(store, name: str, slots: int) -> None:
    """Create or change the limit `name` to `slots` slots."""
    with store.transaction() as tx:
        tx.execute("INSERT INTO concurrency_limits (name, slots, updated) VALUES (?, ?, ?) "
                   "ON CONFLICT (name) DO UPDATE SET slots = excluded.slots, "
                   "updated = excluded.updated", (name, slots, time.time()))


def list_limits(store) -> list[dict[str, Any]]:
    """Each limit by name, with the slots and holders of its unexpired leases."""
    rows = store.query(
        "SELECT l.name, l.slots, COALESCE(SUM(c.occupy), 0), COUNT(c.id) "
        "FROM concurrency_limits l LEFT JOIN concurrency_leases c "
        f"ON c.name = l.name AND c.expires > {store.dialect.now_epoch()} "
        "GROUP BY l.name, l.slots ORDER BY l.name")
    return [{"name": n, "slots": s, "active": int(a), "holders": int(h)} for n, s, a, h in rows]


def delete_limit(store, name: str) -> bool:
    """Delete the limit and its leases; False when there was no such limit."""
    with store.transaction() as tx:
        found = tx.execute("DELETE FROM concurrency_limits WHERE name = ? RETURNING name",
                           (name,)).fetchall()
        tx.execute("DELETE FROM concurrency_leases WHERE name = ?", (name,))
    return bool(found)


def take_leases(store, names: Sequence[str], occupy: int, lease_seconds: float, holder: str,
                *, on_missing: Callable[[str], Exception],
                on_too_many: Callable[[str, int], Exception]) -> dict[str, str] | None:
    """Lease id -> limit name: `occupy` slots of every named limit at once, leased for
    `lease_seconds`; None (nothing taken) when some limit has no room now.

    Build the errors raised: `on_missing(name)` for a limit that does not exist,
    `on_too_many(name, slots)` for one with fewer than `occupy` slots in all.
    """
    now = store.dialect.now_epoch()
    try:
        with store.transaction() as tx:
            leases: dict[str, str] = {}
            # Every holder locks the limits it needs in one order (sorted), so two holders of
            # ["a", "b"] and ["b", "a"] wait for each other instead of deadlocking.
            for name in sorted(set(names)):
                row = tx.execute("SELECT slots FROM concurrency_limits WHERE name = ?"
                                 + tx.lock_rows(), (name,)).fetchone()
                if row is None:
                    raise on_missing(name)
                if occupy > row[0]:
                    raise on_too_many(name, row[0])
                tx.execute(f"DELETE FROM concurrency_leases WHERE name = ? AND expires <= {now}",
                           (name,))
                used = tx.execute("SELECT COALESCE(SUM(occupy), 0) FROM concurrency_leases "
                                  "WHERE name = ?", (name,)).fetchone()[0]
                if used + occupy > row[0]:
                    raise _NoRoom  # rolls back the leases taken on the names before this one
                lease = uuid.uuid4().hex
                tx.execute("INSERT INTO concurrency_leases (id, name, occupy, holder, expires) "
                           f"VALUES (?, ?, ?, ?, {now} + ?)",
                           (lease, name, occupy, holder, lease_seconds))
                leases[lease] = name
            return leases
    except _NoRoom:
        return None


def renew_lease(store, lease: str, lease_seconds: float) -> bool:
    """Push the lease's expiry to `lease_seconds` from now; False when it is gone."""
    with store.transaction() as tx:
        return bool(tx.execute(
            f"UPDATE concurrency_leases SET expires = {store.dialect.now_epoch()} + ?"
            " WHERE id = ?", (lease_seconds, lease)).rowcount)


def release_leases(store, leases: Sequence[str]) -> None:
    """Delete the leases, freeing their slots."""
    with store.transaction() as tx:
        for lease in leases:
            tx.execute("DELETE FROM concurrency_leases WHERE id = ?", (lease,))
