"""The database behind a store URL: connections, dialects, transactions and clear errors.

One code path over DB-API 2. Statements are written with `?` placeholders in SQL that both
databases accept (`INSERT ... ON CONFLICT ... DO UPDATE`, `RETURNING`); `Dialect` is the one
place where the two differ (placeholder style, how a write transaction begins). SQLite is the
embedded default; PostgreSQL (psycopg 3, imported only then) serves teams sharing one store.
The tables and their queries belong to the owner modules beside this one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from core_blocks.errors import StoreError
from core_blocks.settings import ensure_home
from core_blocks.store_url import describe_url, mask_url_secrets

# Deadlock and serialization failures: PostgreSQL rolls the transaction back; running it again
# is the documented remedy.
_TRANSIENT = {"40P01", "40001"}
_TRANSIENT_ATTEMPTS = 3
_VERSION_QUERY = "SELECT value FROM core_blocks_meta WHERE key = 'schema_version'"
T = TypeVar("T")


class Dialect:
    """What differs between the two databases: placeholders and starting a write."""

    def __init__(self, name: str):
        self.name = name

    def sql(self, statement: str) -> str:
        return statement if self.name == "sqlite" else statement.replace("?", "%s")

    def lock_rows(self) -> str:
        """Suffix of a SELECT that locks the rows it reads until the transaction ends."""
        return "" if self.name == "sqlite" else " FOR UPDATE"  # SQLite: BEGIN IMMEDIATE did

    def share_rows(self) -> str:
        """Suffix of a SELECT that keeps the rows it reads from being deleted until the end."""
        return "" if self.name == "sqlite" else " FOR KEY SHARE"

    def now_epoch(self) -> str:
        """SQL for the store's clock in epoch seconds: on PostgreSQL the server's, shared by
        every host (each host's own clock may drift); on SQLite the local one, the only one."""
        if self.name == "sqlite":
            return "((julianday('now') - 2440587.5) * 86400.0)"
        return "CAST(EXTRACT(EPOCH FROM now()) AS DOUBLE PRECISION)"

    def begin_write(self) -> list[str]:
        if self.name == "sqlite":
            return ["BEGIN IMMEDIATE"]  # take the write lock now, not at the first write
        # One writer at a time for schema changes; row locks do the rest.
        return ["BEGIN"]


class Tx:
    """A cursor-like view of a connection inside Database.transaction()."""

    def __init__(self, conn, dialect: Dialect):
        self._conn = conn
        self._dialect = dialect

    def execute(self, statement: str, params: Sequence[Any] = ()):
        return self._conn.execute(self._dialect.sql(statement), tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._conn.cursor().executemany(self._dialect.sql(statement), rows)

    def lock_rows(self) -> str:
        return self._dialect.lock_rows()

    def share_rows(self) -> str:
        return self._dialect.share_rows()


class _TransientError(StoreError):
    """A write transaction the database aborted for a reason that may not recur."""


class Database:
    """The database behind one URL; one connection per thread, opened (and migrated to the
    current schema) on first use."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect = Dialect("sqlite")
            self.path: Path | None = Path(url[len("sqlite:///"):])
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = Dialect("postgres")
            self.path = None
        else:
            raise StoreError(
                f"CORE_BLOCKS_STORE_URL {describe_url(url)!r} is not supported: use "
                "sqlite:///PATH or postgresql://USER@HOST/DB."
            )
        self._local = threading.local()
        self._migrated = False

    # -- connections -----------------------------------------------------------------

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            if not self._migrated:
                self._migrate(conn)
                self._migrated = True
        return conn

    def _connect(self):
        if self.dialect.name == "sqlite":
            return self._connect_sqlite()
        return self._connect_postgres()

    def _connect_sqlite(self):
        import sqlite3

        assert self.path is not None
        ensure_home(self.path.parent)
        if not self.path.exists():
            self._create_sqlite_file()
        elif self.path.stat().st_size == 0:
            raise self._emptied()
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            self._use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise self._wrap(exc) from None
        return conn

    @staticmethod
    def _use_wal(conn) -> None:
        """Switch a new file to WAL; the switch ignores busy_timeout, so retry while locked."""
        import sqlite3
        import time

        deadline = time.monotonic() + 30
        delay = 0.005
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _create_sqlite_file(self) -> None:
        """Build a new store whole (see core_blocks.sqlite_files): a zero-byte blocks.db is
        then always damage, never ours."""
        import sqlite3

        from core_blocks.sqlite_files import create_whole

        assert self.path is not None
        try:
            create_whole(self.path, self._migrate)
        except sqlite3.DatabaseError as exc:
            raise self._wrap(exc) from None

    def _emptied(self) -> StoreError:
        assert self.path is not None
        # secrets.enc: the file backend's format before secrets.db, until its first use imports it
        held = [p for p in (self.path.with_name("secrets.db"), self.path.with_name("secrets.enc"))
                if p.exists()]
        beside = (f", while {held[0].name} beside it still holds the secrets of its blocks"
                  if held else "")
        return StoreError(
            f"The block store {self.path} is an empty (0-byte) file: its blocks were lost{beside}. "
            "Restore it from a backup, or delete it to start over with an empty store."
        )

    def _corrupt(self, exc: Exception) -> StoreError:
        return StoreError(
            f"The block store {self.path} is not a readable SQLite database ({exc}). "
            "Move it aside (it is then replaced by an empty store) or restore it from a backup."
        )

    def _connect_postgres(self):
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                "CORE_BLOCKS_STORE_URL names PostgreSQL but psycopg is not installed. "
                "Install it with: pip install 'core-blocks[postgres]'"
            ) from None
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except (psycopg.Error, ValueError) as exc:
            text = str(exc).strip()
            reason = mask_url_secrets(text.splitlines()[0] if text else type(exc).__name__,
                                      self.url)
        # Raised outside the except block: a chained __context__ would keep the driver's
        # error, whose text may quote the password.
        raise StoreError(
            f"Cannot connect to the block store {describe_url(self.url)}: {reason}. "
            "Check CORE_BLOCKS_STORE_URL and that the server is running."
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- statements ------------------------------------------------------------------

    def _errors(self) -> tuple[type[BaseException], ...]:
        if self.dialect.name == "sqlite":
            import sqlite3

            return (sqlite3.DatabaseError,)
        import psycopg

        return (psycopg.Error,)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one read statement outside any transaction and return its rows."""
        conn = self._connection()
        try:
            return conn.execute(self.dialect.sql(statement), tuple(params)).fetchall()
        except self._errors() as exc:
            raise self._wrap(exc) from None

    def _is_corruption(self, exc: BaseException) -> bool:
        return self.dialect.name == "sqlite" and any(
            sign in str(exc) for sign in ("not a database", "malformed"))

    def _wrap(self, exc: BaseException) -> StoreError:
        if self._is_corruption(exc):
            return self._corrupt(exc)
        error = _TransientError if getattr(exc, "sqlstate", None) in _TRANSIENT else StoreError
        return error(f"The block store {describe_url(self.url)} failed: "
                     f"{mask_url_secrets(str(exc), self.url)}")

    def _retrying(self, body: Callable[[Tx], T]) -> T:
        """body(tx) in a write transaction, run again when PostgreSQL aborted it as a deadlock
        victim: the abort rolled everything back, so another run starts from a clean slate."""
        for attempt in range(_TRANSIENT_ATTEMPTS):
            try:
                with self.transaction() as tx:
                    return body(tx)
            except _TransientError:
                if attempt == _TRANSIENT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction: committed when the block ends, rolled back on an error."""
        conn = self._connection()
        errors = self._errors()
        try:
            for statement in self.dialect.begin_write():
                conn.execute(statement)
        except errors as exc:
            raise self._wrap(exc) from None
        try:
            yield Tx(conn, self.dialect)
        except BaseException as exc:
            try:
                conn.execute("ROLLBACK")
            except errors:
                pass
            if isinstance(exc, errors):
                raise self._wrap(exc) from None
            raise
        try:
            conn.execute("COMMIT")
        except errors as exc:
            raise self._wrap(exc) from None

    # -- schema ----------------------------------------------------------------------

    def _migrate(self, conn) -> None:
        """Bring the schema to SCHEMA_VERSION: every owner's steps above the recorded version,
        in version order, in one transaction (so a failed step leaves the old version)."""
        from core_blocks.store.migrations import SCHEMA_VERSION, statements_after

        try:
            version = self._read_version(conn)
        except self._errors() as exc:
            if self._is_corruption(exc):
                raise self._corrupt(exc) from None
            version = None
        if version == SCHEMA_VERSION:
            return
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"The block store {describe_url(self.url)} has schema version {version}, newer "
                f"than this core-blocks understands ({SCHEMA_VERSION}). Upgrade core-blocks."
            )
        tx = Tx(conn, self.dialect)
        try:
            for statement in self.dialect.begin_write():
                conn.execute(statement)
            if self.dialect.name == "postgres":
                conn.execute("SELECT pg_advisory_xact_lock(7163512)")  # one migrator at a time
            tx.execute("CREATE TABLE IF NOT EXISTS core_blocks_meta "
                       "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            version = self._read_version(conn) or 0  # again, now under the lock
            for statement in statements_after(version):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO core_blocks_meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("COMMIT")
        except self._errors() as exc:
            conn.execute("ROLLBACK")
            raise self._wrap(exc) from None

    def _read_version(self, conn) -> int | None:
        row = conn.execute(self.dialect.sql(_VERSION_QUERY), ()).fetchone()
        return int(row[0]) if row else None

    def schema_version(self) -> int:
        return int(self.query(_VERSION_QUERY)[0][0])

def glob_to_like(pattern: str) -> str:
    """A glob (`*` any text, `?` one character) as a LIKE pattern escaped with `!`.

    Lower-cased: names are lower-case, and SQLite's LIKE ignores case where PostgreSQL's does
    not, so both stores match the same names.
    """
    escaped = pattern.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return escaped.replace("*", "%").replace("?", "_")
