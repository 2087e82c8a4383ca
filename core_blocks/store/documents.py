"""Block types, block documents, their references and the secret journal: the tables behind
saved blocks, and every query on them.

They are methods of `Store` (the block code calls `store.get_document(...)`, as it did
before the store became a package). Saves and deletes run in one transaction each, retried
when PostgreSQL aborts them as a deadlock victim.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from core_blocks.errors import StoreError
from core_blocks.store.database import Database, Tx, glob_to_like
from core_blocks.store.document_rows import DocumentRow, DocumentWrite, TypeRow

# Schema version -> statements (see core_blocks.store.migrations); never edit a released one.
MIGRATIONS: dict[int, list[str]] = {
    1: [
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
}

_DOC_COLUMNS = (
    "id, name, type_slug, data, schema_checksum, secret_key, secret_backend, anonymous, "
    "created, updated, version"
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Store(Database):
    """The block store behind one URL: its database, with the queries on block types,
    documents and the secret journal as methods. Runs, artifacts and concurrency limits
    have their own modules (functions taking the store)."""

    # -- block types -----------------------------------------------------------------

    def upsert_type(self, tx: Tx, *, slug: str, name: str, description: str,
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
        def body(tx: Tx) -> None:
            self._check_children(tx, writes, on_missing_child)
            for w in writes:
                self._write_document(tx, w, on_exists, on_conflict)

        self._retrying(body)

    def _check_children(self, tx: Tx, writes: Sequence[DocumentWrite],
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

    def _write_document(self, tx: Tx, w: DocumentWrite, on_exists: Any,
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
        def body(tx: Tx) -> DocumentRow | None:
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

    def unreferenced_anonymous(self) -> list[DocumentRow]:
        """Inline (anonymous) documents that no document references any more."""
        rows = self.query(
            f"SELECT {_DOC_COLUMNS} FROM block_documents WHERE anonymous = 1"
            " AND id NOT IN (SELECT child_id FROM block_references) ORDER BY type_slug, name")
        return [DocumentRow.from_row(r) for r in rows]

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

    def secret_backends_in_use(self) -> set[str]:
        """The backends that hold the secrets of saved documents."""
        return {r[0] for r in self.query(
            "SELECT DISTINCT secret_backend FROM block_documents"
            " WHERE secret_backend IS NOT NULL")}


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
