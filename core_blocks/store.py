"""The block store: block types and block documents in SQLite or PostgreSQL.

One code path over DB-API 2. Statements are written with `?` placeholders in SQL that both
databases accept (`INSERT ... ON CONFLICT ... DO UPDATE`, `RETURNING`); `_Dialect` is the one
place where the two differ (placeholder style, how a write transaction begins). SQLite is the
embedded default; PostgreSQL (psycopg 3, imported only then) serves teams sharing one store.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core_blocks.errors import StoreError
from core_blocks.settings import Settings, ensure_home
from core_blocks.store_url import describe_url, mask_url_secrets  # describe_url: re-exported

SCHEMA_VERSION = 4

# Each entry moves the store's schema one version forward; never edit a released entry.
_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE block_types (
            slug TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            documentation_url TEXT,
            capabilities TEXT NOT NULL,
            schema TEXT NOT NULL,
            checksum TEXT NOT NULL,
            package TEXT,
            package_version TEXT,
            created TEXT NOT NULL,
            updated TEXT NOT NULL)""",
        """CREATE TABLE block_documents (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            type_slug TEXT NOT NULL REFERENCES block_types (slug),
            data TEXT NOT NULL,
            schema_checksum TEXT NOT NULL,
            secret_key TEXT,
            secret_backend TEXT,
            anonymous INTEGER NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            version INTEGER NOT NULL,
            UNIQUE (type_slug, name))""",
        """CREATE TABLE block_references (
            parent_id TEXT NOT NULL REFERENCES block_documents (id),
            field TEXT NOT NULL,
            child_id TEXT NOT NULL REFERENCES block_documents (id),
            PRIMARY KEY (parent_id, field))""",
        "CREATE INDEX block_references_child ON block_references (child_id)",
        # Secrets written but not yet (pending) or no longer (retired) referenced by a
        # document; `blocks doctor --fix` removes what a crash left here.
        """CREATE TABLE secret_journal (
            secret_key TEXT PRIMARY KEY,
            backend TEXT NOT NULL,
            state TEXT NOT NULL,
            created TEXT NOT NULL)""",
    ],
    [
        # Run history of the task runtime (core_blocks.runtime.history); times are epoch seconds
        # in DOUBLE PRECISION: PostgreSQL's REAL is 4 bytes, about 128 s at today's clock.
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            fn_name TEXT NOT NULL,
            flow_name TEXT,
            parent_id TEXT,
            flow_run_id TEXT,
            parameters TEXT NOT NULL,
            state TEXT NOT NULL,
            state_name TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            started DOUBLE PRECISION,
            ended DOUBLE PRECISION,
            error_type TEXT,
            error_message TEXT,
            traceback TEXT)""",
        "CREATE INDEX runs_created ON runs (created)",
        "CREATE INDEX runs_parent ON runs (parent_id)",
        """CREATE TABLE run_states (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            state TEXT NOT NULL,
            name TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            message TEXT,
            PRIMARY KEY (run_id, seq))""",
        # Global concurrency limits: slots per name, and the leases that hold them.
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
    [
        # A live run's writer refreshes `heartbeat` (the store's clock, epoch seconds); a run
        # not final whose heartbeat is older than its `heartbeat_timeout` has crashed.
        "ALTER TABLE runs ADD COLUMN heartbeat DOUBLE PRECISION",
        "ALTER TABLE runs ADD COLUMN heartbeat_timeout DOUBLE PRECISION",
        # Runs recorded before heartbeats existed: their last sign of life is their last time.
        "UPDATE runs SET heartbeat = COALESCE(ended, started, created), heartbeat_timeout = 30",
    ],
    [
        # Run artifacts (core_blocks.runtime.artifacts): a named markdown text or table a run
        # attached, already redacted; `data` is JSON. Several per run; a key may recur.
        """CREATE TABLE run_artifacts (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            flow_run_id TEXT,
            key TEXT NOT NULL,
            type TEXT NOT NULL,
            description TEXT,
            data TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX run_artifacts_run ON run_artifacts (run_id)",
        "CREATE INDEX run_artifacts_key ON run_artifacts (key, created)",
    ],
]

# Deadlock and serialization failures: PostgreSQL rolls the transaction back; running it again
# is the documented remedy.
_TRANSIENT = {"40P01", "40001"}
_TRANSIENT_ATTEMPTS = 3

_DOC_COLUMNS = (
    "id, name, type_slug, data, schema_checksum, secret_key, secret_backend, anonymous, "
    "created, updated, version"
)


@dataclass(frozen=True)
class DocumentRow:
    """One saved block document as the store holds it (secrets are placeholders)."""

    id: str
    name: str
    type_slug: str
    data: str
    schema_checksum: str
    secret_key: str | None
    secret_backend: str | None
    anonymous: bool
    created: str
    updated: str
    version: int

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> DocumentRow:
        values = list(row)
        values[7] = bool(values[7])
        return cls(*values)

    @property
    def ref(self) -> str:
        return f"{self.type_slug}/{self.name}"


@dataclass(frozen=True)
class TypeRow:
    """One registered block type."""

    slug: str
    name: str
    description: str
    documentation_url: str | None
    capabilities: list[str]
    schema: dict
    checksum: str
    package: str | None
    package_version: str | None


REFS_KEY = "$refs"  # in a document's data: field -> id of the nested block's document


@dataclass
class DocumentWrite:
    """A document to insert or overwrite in one tree write (see Store.write_documents)."""

    id: str
    name: str
    type_slug: str
    data: dict[str, Any]
    schema_checksum: str
    secret_key: str | None
    secret_backend: str | None
    anonymous: bool
    overwrite: bool
    expected_version: int | None
    references: dict[str, Any]  # field -> child document id, or the child's DocumentWrite
    # The id of the document this block was loaded from (or last saved as): an overwrite must
    # find that same document, not one deleted and created again under its name.
    expected_id: str | None = None
    # Filled in by write_documents:
    replaced_secret: tuple[str, str] | None = None  # (backend, key) no longer referenced
    stored_id: str = ""
    version: int = 0
    dropped_children: tuple[str, ...] = ()

    def resolved_references(self) -> dict[str, str]:
        """field -> child id; children are written before their parent, so ids are known."""
        return {field: (child.stored_id if isinstance(child, DocumentWrite) else child)
                for field, child in self.references.items()}

    def data_json(self) -> str:
        refs = self.resolved_references()
        return json.dumps({**self.data, REFS_KEY: refs} if refs else self.data, sort_keys=True)


class _Dialect:
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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class _TransientError(StoreError):
    """A write transaction the database aborted for a reason that may not recur."""


class Store:
    """The block store behind one URL; one connection per thread, opened on first use."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect = _Dialect("sqlite")
            self.path: Path | None = Path(url[len("sqlite:///"):])
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = _Dialect("postgres")
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
        """Build a new store under a temporary name, then link it into place, so blocks.db
        is never seen half-made: a zero-byte blocks.db is then always damage, never ours."""
        import sqlite3
        import tempfile

        assert self.path is not None
        # mkstemp: 0600 before SQLite writes a byte (documents name a team's systems). The pid
        # in the name lets `blocks doctor --fix` tell a crashed creator's leftover.
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.{os.getpid()}.", suffix=".tmp",
                                   dir=self.path.parent)
        os.close(fd)
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                self._migrate(conn)
            finally:
                conn.close()  # the last connection checkpoints the WAL into the file
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass  # another process created the store first: use theirs
            except OSError:
                # A filesystem without hard links: a rename is whole too, though two
                # processes creating the store at the same instant may each put theirs.
                if not self.path.exists():
                    os.replace(tmp, self.path)
        except sqlite3.DatabaseError as exc:
            raise self._wrap(exc) from None
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(tmp + suffix).unlink(missing_ok=True)

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

    def _retrying(self, body: Any) -> Any:
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
    def transaction(self) -> Iterator[_Tx]:
        """A write transaction: committed when the block ends, rolled back on an error."""
        conn = self._connection()
        errors = self._errors()
        try:
            for statement in self.dialect.begin_write():
                conn.execute(statement)
        except errors as exc:
            raise self._wrap(exc) from None
        try:
            yield _Tx(conn, self.dialect)
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
        tx = _Tx(conn, self.dialect)
        try:
            for statement in self.dialect.begin_write():
                conn.execute(statement)
            if self.dialect.name == "postgres":
                conn.execute("SELECT pg_advisory_xact_lock(7163512)")  # one migrator at a time
            tx.execute("CREATE TABLE IF NOT EXISTS core_blocks_meta "
                       "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            version = self._read_version(conn) or 0  # again, now under the lock
            for number in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[number]:
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
        row = conn.execute(
            self.dialect.sql("SELECT value FROM core_blocks_meta WHERE key = ?"),
            ("schema_version",),
        ).fetchone()
        return int(row[0]) if row else None

    def schema_version(self) -> int:
        rows = self.query("SELECT value FROM core_blocks_meta WHERE key = ?", ("schema_version",))
        return int(rows[0][0])

    # -- block types -----------------------------------------------------------------

    def upsert_type(self, tx: _Tx, *, slug: str, name: str, description: str,
                    documentation_url: str | None, capabilities: Sequence[str], schema: dict,
                    checksum: str, package: str | None, package_version: str | None) -> None:
        now = _now()
        tx.execute(
            "INSERT INTO block_types (slug, name, description, documentation_url, capabilities,"
            " schema, checksum, package, package_version, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (slug) DO UPDATE SET name = excluded.name,"
            " description = excluded.description,"
            " documentation_url = excluded.documentation_url,"
            " capabilities = excluded.capabilities, schema = excluded.schema,"
            " checksum = excluded.checksum, package = excluded.package,"
            " package_version = excluded.package_version, updated = excluded.updated",
            (slug, name, description, documentation_url, json.dumps(list(capabilities)),
             json.dumps(schema, sort_keys=True), checksum, package, package_version, now, now),
        )

    def list_types(self) -> list[TypeRow]:
        rows = self.query(
            "SELECT slug, name, description, documentation_url, capabilities, schema, checksum,"
            " package, package_version FROM block_types ORDER BY slug"
        )
        return [
            TypeRow(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6], r[7], r[8])
            for r in rows
        ]

    def type_checksum(self, slug: str) -> str | None:
        rows = self.query("SELECT checksum FROM block_types WHERE slug = ?", (slug,))
        return rows[0][0] if rows else None

    # -- documents -------------------------------------------------------------------

    def get_document(self, type_slug: str, name: str) -> DocumentRow | None:
        rows = self.query(
            f"SELECT {_DOC_COLUMNS} FROM block_documents WHERE type_slug = ? AND name = ?",
            (type_slug, name),
        )
        return DocumentRow.from_row(rows[0]) if rows else None

    def get_document_by_id(self, document_id: str) -> DocumentRow | None:
        rows = self.query(f"SELECT {_DOC_COLUMNS} FROM block_documents WHERE id = ?",
                          (document_id,))
        return DocumentRow.from_row(rows[0]) if rows else None

    def list_documents(self, type_slug: str | None = None, include_anonymous: bool = False, *,
                       name_pattern: str | None = None, limit: int | None = None,
                       offset: int = 0) -> list[DocumentRow]:
        """Documents ordered by type and name; name_pattern is a glob (`*`, `?`) on the name.

        The filter, limit and offset run in the query: a page of a large store reads one page.
        """
        clause, params = _documents_where(type_slug, include_anonymous, name_pattern)
        page = ""
        if limit is not None or offset:
            page = " LIMIT ? OFFSET ?"  # both databases take a LIMIT; 2**62 stands for none
            params += [2**62 if limit is None else limit, offset]
        rows = self.query(
            f"SELECT {_DOC_COLUMNS} FROM block_documents{clause} ORDER BY type_slug, name{page}",
            params,
        )
        return [DocumentRow.from_row(r) for r in rows]

    def count_listed(self, type_slug: str | None = None, include_anonymous: bool = False, *,
                     name_pattern: str | None = None) -> int:
        """How many documents list_documents would return without a limit."""
        clause, params = _documents_where(type_slug, include_anonymous, name_pattern)
        return self.query(f"SELECT COUNT(*) FROM block_documents{clause}", params)[0][0]

    def referrers(self, document_id: str) -> list[tuple[str, str, str]]:
        """(type slug, name, field) of every document that references this one."""
        return [
            tuple(r)
            for r in self.query(
                "SELECT d.type_slug, d.name, r.field FROM block_references r"
                " JOIN block_documents d ON d.id = r.parent_id WHERE r.child_id = ?"
                " ORDER BY d.type_slug, d.name",
                (document_id,),
            )
        ]

    def get_tree(self, type_slug: str, name: str) -> dict[str, DocumentRow]:
        """The named document and every document it references, directly or not, by id.

        One statement reads them all, so they are one version of the tree even while others
        overwrite it (a statement sees one snapshot in both databases). Empty when no document
        has that name.
        """
        rows = self.query(
            "WITH RECURSIVE tree (id) AS ("
            " SELECT id FROM block_documents WHERE type_slug = ? AND name = ?"
            " UNION SELECT r.child_id FROM block_references r JOIN tree t ON r.parent_id = t.id)"
            f" SELECT {_DOC_COLUMNS} FROM block_documents"
            " WHERE id IN (SELECT id FROM tree)",
            (type_slug, name),
        )
        return {row.id: row for row in map(DocumentRow.from_row, rows)}

    def write_documents(self, writes: Sequence[DocumentWrite], on_exists: Any,
                        on_conflict: Any, on_missing_child: Any = None) -> None:
        """Insert or overwrite a tree of documents (children first) in one transaction.

        Build the errors raised: `on_exists(write, existing_row)` when a name is taken without
        overwrite; `on_conflict(write, existing_row_or_None)` when the document expected (its
        id and version) is gone, replaced or changed; `on_missing_child(write, field, id)` when
        a referenced named block no longer exists. Fills each write's stored_id, version,
        replaced_secret and dropped_children.
        """
        def body(tx: _Tx) -> None:
            self._check_children(tx, writes, on_missing_child)
            for w in writes:
                self._write_document(tx, w, on_exists, on_conflict)

        self._retrying(body)

    def _check_children(self, tx: _Tx, writes: Sequence[DocumentWrite],
                        on_missing_child: Any) -> None:
        """Referenced named blocks must exist, and stay until this transaction ends: a delete
        racing the save then either waits for it (and finds the new referrer) or wins (and the
        save stops here with a clear message instead of a foreign-key error)."""
        named = sorted(((child, w, field) for w in writes
                        for field, child in w.references.items() if isinstance(child, str)),
                       key=lambda item: item[0])  # one lock order for every transaction
        for child_id, w, field in named:
            found = tx.execute(f"SELECT id FROM block_documents WHERE id = ?{tx.share_rows()}",
                               (child_id,)).fetchone()
            if found is None:
                if on_missing_child is None:
                    raise StoreError(f"{w.type_slug}/{w.name}: field {field!r} refers to a "
                                     "block that no longer exists.")
                raise on_missing_child(w, field, child_id)

    def _write_document(self, tx: _Tx, w: DocumentWrite, on_exists: Any,
                        on_conflict: Any) -> None:
        now = _now()
        w.replaced_secret, w.dropped_children = None, ()  # a retried transaction starts over
        data = w.data_json()
        refs = w.resolved_references()
        # The no-op DO UPDATE locks an existing row and returns it as it is.
        row = tx.execute(
            f"INSERT INTO block_documents ({_DOC_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
            " ON CONFLICT (type_slug, name) DO UPDATE SET version = block_documents.version"
            f" RETURNING {_DOC_COLUMNS}",
            (w.id, w.name, w.type_slug, data, w.schema_checksum, w.secret_key,
             w.secret_backend, int(w.anonymous), now, now),
        ).fetchone()
        existing = DocumentRow.from_row(row)
        if existing.id == w.id:
            if w.expected_id is not None:  # it was deleted since it was loaded
                raise on_conflict(w, None)
            w.stored_id, w.version = w.id, 1
        else:
            if not w.overwrite:
                raise on_exists(w, existing)
            if (w.expected_id is not None and existing.id != w.expected_id) or (
                    w.expected_version is not None and existing.version != w.expected_version):
                raise on_conflict(w, existing)
            tx.execute(
                "UPDATE block_documents SET data = ?, schema_checksum = ?, secret_key = ?,"
                " secret_backend = ?, updated = ?, version = version + 1 WHERE id = ?",
                (data, w.schema_checksum, w.secret_key, w.secret_backend, now, existing.id),
            )
            w.stored_id, w.version = existing.id, existing.version + 1
            if existing.secret_key and existing.secret_key != w.secret_key:
                w.replaced_secret = (existing.secret_backend or "", existing.secret_key)
                tx.execute(
                    "INSERT INTO secret_journal (secret_key, backend, state, created)"
                    " VALUES (?, ?, 'retired', ?) ON CONFLICT (secret_key) DO NOTHING",
                    (existing.secret_key, existing.secret_backend or "", now),
                )
            old_children = tx.execute(
                "SELECT child_id FROM block_references WHERE parent_id = ?", (existing.id,),
            ).fetchall()
            tx.execute("DELETE FROM block_references WHERE parent_id = ?", (existing.id,))
            w.dropped_children = tuple(c[0] for c in old_children if c[0] not in refs.values())
        for field, child_id in sorted(refs.items()):
            tx.execute(
                "INSERT INTO block_references (parent_id, field, child_id) VALUES (?, ?, ?)",
                (w.stored_id, field, child_id),
            )
        if w.secret_key:
            tx.execute("DELETE FROM secret_journal WHERE secret_key = ?", (w.secret_key,))

    def delete_document(self, document_id: str, on_referenced: Any) -> DocumentRow | None:
        """Delete one document unless referenced; its secret key moves to the journal."""
        def body(tx: _Tx) -> DocumentRow | None:
            # Locked first: a save referencing it waits until the delete ends (then finds it
            # gone), or the delete waits for the save (then finds its new referrer).
            row = tx.execute(f"SELECT {_DOC_COLUMNS} FROM block_documents WHERE id = ?"
                             f"{tx.lock_rows()}", (document_id,)).fetchone()
            if row is None:
                return None
            doc = DocumentRow.from_row(row)
            referrers = tx.execute(
                "SELECT d.type_slug, d.name, r.field FROM block_references r"
                " JOIN block_documents d ON d.id = r.parent_id WHERE r.child_id = ?"
                " ORDER BY d.type_slug, d.name",
                (document_id,),
            ).fetchall()
            if referrers:
                raise on_referenced(doc, [tuple(r) for r in referrers])
            if doc.secret_key:
                tx.execute(
                    "INSERT INTO secret_journal (secret_key, backend, state, created)"
                    " VALUES (?, ?, 'retired', ?) ON CONFLICT (secret_key) DO NOTHING",
                    (doc.secret_key, doc.secret_backend or "", _now()),
                )
            tx.execute("DELETE FROM block_references WHERE parent_id = ?", (document_id,))
            tx.execute("DELETE FROM block_documents WHERE id = ?", (document_id,))
            return doc

        return self._retrying(body)

    def child_ids(self, document_id: str) -> list[str]:
        return [r[0] for r in self.query(
            "SELECT child_id FROM block_references WHERE parent_id = ?", (document_id,))]

    # -- secret journal --------------------------------------------------------------

    def journal_add(self, backend: str, keys: Sequence[str], state: str) -> None:
        now = _now()
        with self.transaction() as tx:
            for key in keys:
                tx.execute(
                    "INSERT INTO secret_journal (secret_key, backend, state, created)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (secret_key) DO UPDATE"
                    " SET state = excluded.state",
                    (key, backend, state, now),
                )

    def journal_remove(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        with self.transaction() as tx:
            for key in keys:
                tx.execute("DELETE FROM secret_journal WHERE secret_key = ?", (key,))

    def journal(self) -> list[tuple[str, str, str, str]]:
        """(key, backend, state, created) for every secret a save or delete left behind."""
        return [tuple(r) for r in self.query(
            "SELECT secret_key, backend, state, created FROM secret_journal ORDER BY created")]

    def secret_key_in_use(self, key: str) -> bool:
        return bool(self.query("SELECT 1 FROM block_documents WHERE secret_key = ?", (key,)))

    def count_documents(self) -> int:
        return int(self.query("SELECT COUNT(*) FROM block_documents")[0][0])


class _Tx:
    """A cursor-like view of a connection inside Store.transaction()."""

    def __init__(self, conn, dialect: _Dialect):
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


def _documents_where(type_slug: str | None, include_anonymous: bool,
                     name_pattern: str | None) -> tuple[str, list[Any]]:
    where, params = [], []
    if type_slug is not None:
        where.append("type_slug = ?")
        params.append(type_slug)
    if not include_anonymous:
        where.append("anonymous = 0")
    if name_pattern is not None:
        where.append("name LIKE ? ESCAPE '!'")
        params.append(glob_to_like(name_pattern))
    return (f" WHERE {' AND '.join(where)}" if where else ""), params


def glob_to_like(pattern: str) -> str:
    """A glob (`*` any text, `?` one character) as a LIKE pattern escaped with `!`.

    Lower-cased: names are lower-case, and SQLite's LIKE ignores case where PostgreSQL's does
    not, so both stores match the same names.
    """
    escaped = pattern.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return escaped.replace("*", "%").replace("?", "_")
