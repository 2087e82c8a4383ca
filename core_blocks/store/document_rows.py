"""What the block store returns and takes for block documents and types."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


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
