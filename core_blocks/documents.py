"""Turning blocks into store documents and back: save, load, delete, list.

A save never leaves the store and the secret backend disagreeing:

1. the new secrets are journalled as `pending`, then written under new keys;
2. one transaction writes every document of the tree, points them at the new keys and
   journals the keys they replace as `retired`;
3. the retired secrets are deleted and their journal rows removed.

A crash leaves at most a journalled, unreferenced secret, or an inline block that nothing
references any more (its old child); `blocks doctor --fix` removes both.
A document's data is its plain fields plus two reserved keys: `$secrets` (field -> kind, the
values being in the backend) and `$refs` (field -> id of a nested block's document).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from typing import Any
from uuid import UUID, uuid4

from pydantic import ValidationError

from core_blocks.block_model import BlockModel, block_fields, is_base_block, secret_fields
from core_blocks.errors import (
    BlockConflictError,
    BlockExistsError,
    BlockInUseError,
    BlockNotFound,
    BlockTypeNotFound,
    BlockValidationError,
    SecretBackendError,
    StoreError,
    UnsavedChildError,
)
from core_blocks.fields import kind_named, kind_of
from core_blocks.naming import check_name, split_ref
from core_blocks.registry import get_registry, refuse_claimed_slugs
from core_blocks.secret_values import remember_read
from core_blocks.secrets.selection import backend_for_read, backend_for_write, backend_named
from core_blocks.store import REFS_KEY, DocumentRow, DocumentWrite, Store, get_store
from core_blocks.validation_errors import validation_error

log = logging.getLogger("core_blocks")

SECRETS_KEY = "$secrets"  # in a document's data: field -> kind; the values are in the backend
_TREE_READ_ATTEMPTS = 10  # reads of a tree whose secrets keep being replaced under it


# -- save --------------------------------------------------------------------------------


class _SavePlan:
    def __init__(self) -> None:
        self.writes: list[DocumentWrite] = []
        self.secrets: list[tuple[str, dict[str, Any], str]] = []  # (key, values, ref)
        self.blocks: list[tuple[BlockModel, DocumentWrite]] = []
        self.named: dict[str, str] = {}  # id -> 'slug/name' of the named blocks referenced

    def add(self, block: BlockModel, name: str, *, anonymous: bool, overwrite: bool,
            expected_version: int | None, expected_id: str | None = None) -> DocumentWrite:
        cls = type(block)
        slug = cls._block_type_slug
        data: dict[str, Any] = {}
        secrets: dict[str, Any] = {}
        kinds: dict[str, str] = {}
        refs: dict[str, Any] = {}
        plain = []
        typed_secret = secret_fields(cls)
        for field in cls.model_fields:
            value = getattr(block, field)
            kind = kind_of(value)
            if kind is None and value is not None and field in typed_secret:
                # A plain value in a secret field (model_construct, validate=False) is
                # still kept out of the store.
                kind = kind_named(typed_secret[field])
                value = kind.type(value)
            if isinstance(value, BlockModel):
                refs[field] = self._child(value, f"{slug}/{name}", field)
            elif kind is not None:
                kinds[field] = kind.name
                secrets[field] = kind.encode(value.get_secret_value())
            else:
                plain.append(field)
        data.update(_plain_dump(block, plain))
        _refuse_non_finite(data, slug, name, anonymous)
        if kinds:
            data[SECRETS_KEY] = kinds
        secret_key = f"{slug}/{name}/{uuid4().hex}" if secrets else None
        write = DocumentWrite(
            id=str(uuid4()), name=name, type_slug=slug, data=data,
            schema_checksum=cls.schema_checksum(), secret_key=secret_key, secret_backend=None,
            anonymous=anonymous, overwrite=overwrite, expected_version=expected_version,
            references=refs, expected_id=expected_id,
        )
        if secret_key:
            self.secrets.append((secret_key, secrets, f"{slug}/{name}"))
        self.writes.append(write)  # after its children: they are written first
        self.blocks.append((block, write))
        return write

    def _child(self, child: BlockModel, parent_ref: str, field: str) -> Any:
        if child._block_document_id and not child._is_anonymous:
            # A named block is referenced, not rewritten: a change made to it here would be
            # lost without a word, so it must be saved by its own name first.
            if changed_since_saved(child):
                raise UnsavedChildError(
                    f"Cannot save {parent_ref}: its field {field!r} holds {child.saved_ref}, "
                    f"which was changed but not saved, and saving {parent_ref} does not save "
                    f"it (it is a block of its own, referenced by name). Save it by its name "
                    f"first (.save({child.saved_name!r}, overwrite=True) on that block), or "
                    "load it again to drop the change."
                )
            self.named[child._block_document_id] = child.saved_ref or child._block_document_id
            return child._block_document_id
        name = child._block_document_name if child._is_anonymous else None
        return self.add(child, name or f"anonymous-{uuid4().hex}", anonymous=True,
                        overwrite=True, expected_version=None)


# A keyed digest of each saved or loaded named block's values (secrets included, hence keyed
# with a key that never leaves this process), to tell whether it changed since. The tag tells
# a digest made by another process (a block unpickled here), which cannot be compared.
_FINGERPRINT_KEY = os.urandom(32)
_FINGERPRINT_TAG = os.urandom(8)


def _fingerprint(block: BlockModel) -> tuple[bytes, bytes] | None:
    try:  # warnings off: a block loaded with validate=False may hold ill-typed values
        dumped = block.model_dump(include_secrets=True, mode="json", warnings=False)
        values = json.dumps(dumped, sort_keys=True, default=str)
    except Exception:  # what cannot be dumped cannot be compared; never fail a load over it
        return None
    return _FINGERPRINT_TAG, hmac.digest(_FINGERPRINT_KEY, values.encode(), "sha256")


def changed_since_saved(block: BlockModel) -> bool:
    """Whether a named block's values differ from what it was last loaded or saved with."""
    known = block._saved_fingerprint
    if known is None or known[0] != _FINGERPRINT_TAG:
        return False  # nothing to compare with: not ours to refuse
    now = _fingerprint(block)
    return now is not None and not hmac.compare_digest(known[1], now[1])


def _refuse_non_finite(data: dict[str, Any], slug: str, name: str, anonymous: bool) -> None:
    """Refuse NaN and infinities before anything is written: no JSON document holds them (the
    PostgreSQL store refuses them; SQLite's copy would not be JSON)."""
    from core_blocks.json_numbers import non_finite_at

    found = non_finite_at(data)
    if found:
        shown, _, where = found.partition(" at ")
        block = f"a nested {slug} block" if anonymous else f"{slug}/{name}"
        raise BlockValidationError(
            f"Cannot save {block}: field {where} holds {shown}, which JSON cannot store; "
            "set a finite number (or None if the field allows it).", fields=[where])


def _plain_dump(block: BlockModel, fields: list[str]) -> dict[str, Any]:
    """The plain fields of a block as JSON-compatible values."""
    from pydantic import BaseModel

    return BaseModel.model_dump(block, mode="json", include=set(fields))


def save_block(block: BlockModel, name: str, overwrite: bool = False) -> UUID:
    """Save a block tree under name; see the module docstring for the order of writes."""
    check_name(name)
    cls = type(block)
    store = get_store()
    # Overwriting the block's own document: it must still be the same one (its id) at the same
    # version, or someone deleted, re-created or changed it meanwhile.
    own = (overwrite and block._block_document_name == name and not block._is_anonymous
           and block._block_document_id is not None)
    plan = _SavePlan()
    root = plan.add(block, name, anonymous=False, overwrite=overwrite,
                    expected_version=block._block_document_version if own else None,
                    expected_id=block._block_document_id if own else None)
    refuse_claimed_slugs({type(b) for b, _ in plan.blocks})
    if not overwrite and store.get_document(cls._block_type_slug, name) is not None:
        raise _exists(root, None)  # the common mistake, caught before any secret is written

    backend = None
    if plan.secrets:
        backend = backend_for_write()
        backend.check_writable(f"{cls._block_type_slug}/{name}")
        keys = [key for key, _, _ in plan.secrets]
        store.journal_add(backend.name, keys, "pending")
        written = []
        try:
            for key, values, ref in plan.secrets:
                backend.write(key, values, ref)
                written.append(key)
        except BaseException:
            _discard_secrets(store, backend, written, keys)
            raise
        for write in plan.writes:
            if write.secret_key:
                write.secret_backend = backend.name

    _register_types(store, {type(b) for b, _ in plan.blocks})
    try:
        _write_tree(store, plan)
    except BaseException:
        if backend is not None:
            keys = [key for key, _, _ in plan.secrets]
            _discard_secrets(store, backend, keys, keys)
        raise

    for blk, write in plan.blocks:
        blk._block_document_id = write.stored_id
        blk._block_document_name = write.name
        blk._block_document_version = write.version
        blk._is_anonymous = write.anonymous
        blk._saved_fingerprint = None if write.anonymous else _fingerprint(blk)
    for write in plan.writes:
        if write.replaced_secret:
            _delete_secret(store, *write.replaced_secret)
        for child_id in write.dropped_children:
            _delete_if_orphaned_anonymous(store, child_id)
    return UUID(root.stored_id)


def _write_tree(store: Store, plan: _SavePlan) -> None:
    def on_missing_child(w: DocumentWrite, field: str, child_id: str) -> BlockConflictError:
        child = plan.named.get(child_id, child_id)
        return BlockConflictError(
            f"Cannot save {w.type_slug}/{w.name}: its field {field!r} refers to {child}, "
            f"which has been deleted. Save {child} again or set {field!r} to another block, "
            f"then save {w.type_slug}/{w.name}."
        )

    store.write_documents(plan.writes, on_exists=_exists, on_conflict=_conflict,
                          on_missing_child=on_missing_child)


def _conflict(w: DocumentWrite, existing: DocumentRow | None) -> BlockConflictError:
    """Why an overwrite of the document a block was loaded from is refused, and what to do."""
    ref = f"{w.type_slug}/{w.name}"
    if existing is None:
        return BlockConflictError(
            f"{ref} was deleted since it was loaded; saving it with overwrite=True would "
            "bring it back. To create it again anyway, save with overwrite=False."
        )
    if existing.id != w.expected_id:
        return BlockConflictError(
            f"{ref} was deleted and saved again by someone else since it was loaded; "
            "overwriting would lose their block. Load it again, reapply your change and save."
        )
    return BlockConflictError(
        f"{ref} was changed by someone else since it was loaded (version "
        f"{w.expected_version}, now {existing.version}). Load it again, reapply your change "
        "and save."
    )


def _exists(write: DocumentWrite, existing: DocumentRow | None) -> BlockExistsError:
    ref = f"{write.type_slug}/{write.name}"
    return BlockExistsError(
        f"A {write.type_slug} block named {write.name!r} already exists. Save with "
        f"overwrite=True (CLI: blocks create {ref} --overwrite), or pick another name."
    )


def _register_types(store: Store, classes: set[type[BlockModel]]) -> None:
    known = store.__dict__.setdefault("_registered_checksums", {})
    todo = [c for c in classes if known.get(c._block_type_slug) != c.schema_checksum()]
    if not todo:
        return
    with store.transaction() as tx:
        for cls in todo:
            record_type(store, tx, cls)
    for cls in todo:
        known[cls._block_type_slug] = cls.schema_checksum()


def record_type(store: Store, tx: Any, cls: type[BlockModel], package: str | None = None,
                package_version: str | None = None) -> None:
    """Upsert one block type (slug, schema, checksum, owning package) in the store."""
    if package is None:
        package, package_version = _owning_package(cls)
    store.upsert_type(
        tx, slug=cls._block_type_slug, name=cls._block_type_name,
        description=cls._description, documentation_url=cls._documentation_url,
        capabilities=cls._capabilities, schema=cls.schema(), checksum=cls.schema_checksum(),
        package=package, package_version=package_version,
    )


def _owning_package(cls: type[BlockModel]) -> tuple[str | None, str | None]:
    top = cls.__module__.split(".")[0]
    try:
        from importlib.metadata import packages_distributions, version

        dists = packages_distributions().get(top) or []
        if dists:
            return dists[0], version(dists[0])
    except Exception:  # metadata is informative only; never fail a save over it
        pass
    return top, None


def _discard_secrets(store: Store, backend, written: list[str], journalled: list[str]) -> None:
    """Undo the secret writes of a failed save; what cannot be undone stays journalled."""
    undone = []
    for key in written:
        try:
            backend.delete(key)
            undone.append(key)
        except Exception as exc:  # the journal keeps it for `blocks doctor --fix`
            log.warning("Could not remove secret %s after a failed save: %s", key, exc)
    unwritten = [k for k in journalled if k not in written]
    try:
        store.journal_remove(undone + unwritten)
    except Exception as exc:
        log.warning("Could not clear the secret journal after a failed save: %s", exc)


def _delete_secret(store: Store, backend_name: str, key: str) -> None:
    try:
        backend_named(backend_name).delete(key)
        store.journal_remove([key])
    except Exception as exc:  # stays journalled as retired; doctor --fix retries
        log.warning("Could not delete replaced secret %s: %s. Run: blocks doctor --fix",
                    key, exc)


# -- load --------------------------------------------------------------------------------


def resolve_ref(cls: type[BlockModel], name: str) -> tuple[type[BlockModel] | None, str, str]:
    """(class or None when it must be looked up, slug, name) for cls.load(name)."""
    concrete = not is_base_block(cls) and not _is_abstract(cls)
    if "/" in name:
        slug, name = split_ref(name)
        if concrete and slug != cls._block_type_slug:
            raise BlockValidationError(
                f"{slug}/{name} is not a {cls._block_type_slug} block: load it with "
                f"Block.load('{slug}/{name}')."
            )
        return (cls if concrete else None), slug, check_name(name)
    if not concrete:
        raise BlockValidationError(
            f"{cls.__name__}.load needs 'type-slug/name', e.g. 'secret/{name}'; got {name!r}."
        )
    return cls, cls._block_type_slug, check_name(name)


def _is_abstract(cls: type) -> bool:
    import inspect

    return inspect.isabstract(cls)


def class_for_slug(slug: str) -> type[BlockModel]:
    """The class plugins register for slug, else one defined in this process.

    The registry goes first so that two plugins claiming one slug is an error even when
    one of the classes happens to be imported already.
    """
    return get_registry().block_type(slug)


def load_block(cls: type[BlockModel], name: str, validate: bool = True) -> BlockModel:
    resolved, slug, name = resolve_ref(cls, name)
    store = get_store()
    for _ in range(_TREE_READ_ATTEMPTS):
        # The whole tree in one read: one version of it, even while others overwrite it.
        tree = store.get_tree(slug, name)
        row = next((r for r in tree.values() if r.type_slug == slug and r.name == name), None)
        if row is None:
            raise not_found(store, slug, name)
        target = resolved or class_for_slug(slug)
        if not issubclass(target, cls):
            raise BlockValidationError(
                f"{slug}/{name} is a {target.__name__}, not a {cls.__name__}.")
        try:
            return _materialize(store, tree, row, target, validate)
        except _TreeChanged:
            continue  # overwritten after the read, its old secrets deleted: read it again
    raise SecretBackendError(f"{slug}/{name} kept changing while it was being loaded; try again.")


def not_found(store: Store, slug: str, name: str) -> BlockNotFound | BlockTypeNotFound:
    """The error for a missing slug/name: the unknown type (with close matches) when nothing
    knows slug, else the names saved for it."""
    saved = [r.name for r in store.list_documents(slug)]
    if not saved and not any(t.slug == slug for t in store.list_types()):
        try:
            class_for_slug(slug)  # a misspelt type says so rather than "no block named"
        except BlockTypeNotFound as exc:
            return exc
    shown = ", ".join(saved[:20]) + (" …" if len(saved) > 20 else "")
    return BlockNotFound(
        f"No {slug} block named {name!r}. Saved {slug} blocks: {shown or 'none'}. "
        f"Create it with: blocks create {slug}/{name}"
    )


class _TreeChanged(Exception):
    """A document of the tree read was overwritten or deleted before its secrets were read."""


def _materialize(store: Store, tree: dict[str, DocumentRow], row: DocumentRow,
                 cls: type[BlockModel], validate: bool) -> BlockModel:
    data = json.loads(row.data)
    kinds = data.pop(SECRETS_KEY, {})
    refs = data.pop(REFS_KEY, {})
    if kinds:
        backend = backend_for_read(row.secret_backend)
        try:
            values = backend.read_values(row.secret_key or "", row.ref, kinds)
        except SecretBackendError:
            # A backend that fails on a key deleted while it read it, rather than finding it
            # absent: if the document moved on meanwhile, that key no longer matters.
            if _replaced(store, row):
                raise _TreeChanged from None
            raise
        if values is None:
            if _replaced(store, row):
                raise _TreeChanged  # its secret was replaced (and deleted) meanwhile
            raise SecretBackendError(backend.missing_message(row.ref, list(kinds)))
        remember_read(values)  # from now on masked in run history and run logs
        data.update(values)
    nested = block_fields(cls)
    for field, child_id in refs.items():
        child_row = tree.get(child_id)
        if child_row is None:  # the read was consistent: only a damaged store gets here
            raise BlockNotFound(f"{row.ref} references a block that no longer exists "
                                f"(field {field!r}).")
        child_cls = _child_class(child_row.type_slug, nested.get(field, ()))
        data[field] = _materialize(store, tree, child_row, child_cls, validate)
    block = _validate(cls, row, data) if validate else _construct(cls, data)
    block._block_document_id = row.id
    block._block_document_name = row.name
    block._block_document_version = row.version
    block._is_anonymous = row.anonymous
    block._saved_fingerprint = None if row.anonymous else _fingerprint(block)
    return block


def _replaced(store: Store, row: DocumentRow) -> bool:
    """Whether the document was deleted or pointed at another secret key since row was read."""
    fresh = store.get_document_by_id(row.id)
    return fresh is None or fresh.secret_key != row.secret_key


def _child_class(slug: str, accepted: tuple[type[BlockModel], ...]) -> type[BlockModel]:
    for cls in accepted:
        if cls._block_type_slug == slug:
            return cls
    return class_for_slug(slug)


def _validate(cls: type[BlockModel], row: DocumentRow, data: dict[str, Any]) -> BlockModel:
    known = {k: v for k, v in data.items() if k in cls.model_fields}  # removed fields: dropped
    try:
        return cls._validate_raw(known)
    except ValidationError as exc:
        stale = row.schema_checksum != cls.schema_checksum()
        why = "was saved with another version of" if stale else "does not fit"
        err = validation_error(cls, exc, prefix=f"The {row.ref} block {why} {cls.__name__}")
        fields = ", ".join(repr(f) for f in err.fields)
        fix = (f" Load it with {cls.__name__}.load({row.name!r}, validate=False), set "
               f"{fields}, then save({row.name!r}, overwrite=True).")
        raise BlockValidationError(str(err) + fix, err.fields) from None
    except BlockValidationError as exc:  # a nested block's own message
        raise BlockValidationError(f"The {row.ref} block cannot load: {exc}", exc.fields) from None


def _construct(cls: type[BlockModel], data: dict[str, Any]) -> BlockModel:
    for field, kind in secret_fields(cls).items():
        if field in data and data[field] is not None and kind_of(data[field]) is None:
            data[field] = kind_named(kind).type(data[field])
    return cls.model_construct(**{k: v for k, v in data.items() if k in cls.model_fields})


# -- delete and list ----------------------------------------------------------------------


def delete_block(cls: type[BlockModel], name: str) -> None:
    _, slug, name = resolve_ref(cls, name)
    store = get_store()
    row = store.get_document(slug, name)
    if row is None:
        raise not_found(store, slug, name)
    _delete_document(store, row.id)


def _delete_document(store: Store, document_id: str) -> None:
    def on_referenced(doc: DocumentRow, referrers: list[tuple[str, str, str]]):
        who = ", ".join(f"{s}/{n} (field {f!r})" for s, n, f in referrers)
        return BlockInUseError(
            f"Cannot delete {doc.ref}: it is referenced by {who}. Delete those blocks or "
            "point them at another block first."
        )

    children = store.child_ids(document_id)
    doc = store.delete_document(document_id, on_referenced)
    if doc is None:
        return
    if doc.secret_key:
        _delete_secret(store, doc.secret_backend or "", doc.secret_key)
    for child_id in children:
        _delete_if_orphaned_anonymous(store, child_id)


def _delete_if_orphaned_anonymous(store: Store, document_id: str) -> None:
    try:
        delete_if_orphaned(store, document_id)
    except StoreError as exc:  # the save or delete itself is done; this is tidying only
        log.warning("Could not remove the unreferenced block %s: %s", document_id, exc)


def delete_if_orphaned(store: Store, document_id: str) -> bool:
    """Delete an inline (anonymous) document, its secret and its own orphaned children, if no
    document references it; whether it was deleted.

    A save or delete removes what it orphaned right after committing; a process killed in
    between leaves the orphan to `blocks doctor --fix`, which calls this.
    """
    row = store.get_document_by_id(document_id)
    if row is None or not row.anonymous or store.referrers(document_id):
        return False
    try:
        _delete_document(store, document_id)
    except BlockInUseError:
        return False  # a concurrent save took it up again: no longer an orphan
    return True


def list_blocks(cls: type[BlockModel]) -> list[str]:
    store = get_store()
    if is_base_block(cls):
        return [r.ref for r in store.list_documents()]
    if _is_abstract(cls):
        rows = store.list_documents()
        return [r.ref for r in rows if issubclass(_class_or_base(r), cls)]
    return [r.name for r in store.list_documents(cls._block_type_slug)]


def _class_or_base(row: DocumentRow) -> type:
    try:
        return class_for_slug(row.type_slug)
    except Exception:
        return BlockModel  # unknown type: a subclass of no interface


def describe_document(store: Store, row: DocumentRow, depth: int = 0,
                      aliases: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """A document's fields as saved, secrets shown as '********', nested blocks expanded, each
    field under the name users know (its alias, as the type's stored schema records it).

    Reads only the store: inspecting a block needs neither its plugin nor the secret backend.
    """
    if aliases is None:
        aliases = {t.slug: t.schema.get("field_aliases", {}) for t in store.list_types()}
    data = json.loads(row.data)
    kinds = data.pop(SECRETS_KEY, {})
    refs = data.pop(REFS_KEY, {})
    fields: dict[str, Any] = dict(data)
    for field in kinds:
        fields[field] = "********"
    for field, child_id in refs.items():
        child = store.get_document_by_id(child_id)
        if child is None or depth > 10:
            fields[field] = {"$missing": child_id}
        elif child.anonymous:
            fields[field] = {"type": child.type_slug,
                             **describe_document(store, child, depth + 1, aliases)}
        else:
            fields[field] = {"ref": child.ref}
    shown = aliases.get(row.type_slug, {})
    return dict(sorted((shown.get(field, field), value) for field, value in fields.items()))
