"""What the web page asks of the core: every call into core_blocks made by the UI is here.

The same entry points as the CLI modules (core_blocks/cli/), returning the same shapes as their
`--json` output, so the page and the terminal never disagree. Secret values are read only to
save an edited block again: nothing returned from here holds one.
"""

from __future__ import annotations

from typing import Any

from core_blocks.errors import BlockConflictError, BlockValidationError


class FieldErrors(BlockValidationError):
    """A form's values do not fit its type: one message for the form, one per field."""

    def __init__(self, message: str, by_field: dict[str, str]):
        super().__init__(message, list(by_field))
        self.by_field = by_field


# -- block types -----------------------------------------------------------------------------


def list_types() -> dict[str, Any]:
    """`blocks types --json` with each type's field names: every type of every plugin, and the
    plugins' load errors."""
    from core_blocks.listings import type_rows

    rows, errors = type_rows(with_fields=True)
    return {"types": rows, "plugin_errors": errors}


def type_schema(slug: str) -> dict[str, Any]:
    """`blocks schema TYPE`: the JSON schema the page builds its form from."""
    from core_blocks.documents import class_for_slug

    return class_for_slug(slug).schema()


# -- saved blocks ----------------------------------------------------------------------------


def list_blocks(type_slug: str | None = None, search: str = "") -> list[dict[str, Any]]:
    """`blocks ls --json`, optionally only names containing search."""
    from core_blocks.listings import block_row
    from core_blocks.store import get_store

    rows = get_store().list_documents(type_slug or None)
    return [block_row(r) for r in rows if search.lower() in r.name]


def describe_block(slug: str, name: str) -> dict[str, Any]:
    """`blocks inspect --json` (secrets as ********), plus the blocks it references and those
    referencing it, and whether each secret field is set."""
    from core_blocks.documents import describe_document
    from core_blocks.store import get_store

    store = get_store()
    row = _row(store, slug, name)
    fields = describe_document(store, row)
    secrets = set(_schema_of(slug).get("secret_fields", []))
    return {"type": row.type_slug, "name": row.name, "id": row.id, "created": row.created,
            "updated": row.updated, "version": row.version,
            "secret_backend": row.secret_backend, "fields": fields,
            "secrets_set": {f: f in fields and fields[f] is not None for f in sorted(secrets)},
            "references": sorted(v["ref"] for v in fields.values()
                                 if isinstance(v, dict) and "ref" in v),
            "referenced_by": [{"block": f"{s}/{n}", "field": f}
                              for s, n, f in store.referrers(row.id)]}


def create_block(slug: str, name: str, values: dict[str, Any],
                 overwrite: bool = False) -> dict[str, Any]:
    """`blocks create TYPE/NAME --json`: values as JSON, a nested block as "type/name"."""
    from core_blocks.documents import class_for_slug
    from core_blocks.naming import check_name

    check_name(name)
    cls = class_for_slug(slug)
    block = _validated(cls, _resolve_nested(cls, values))
    block_id = block.save(name, overwrite=overwrite)
    return {"type": slug, "name": name, "id": str(block_id)}


def update_block(slug: str, name: str, version: int, values: dict[str, Any]) -> dict[str, Any]:
    """Save changed fields over the block at the version the page showed.

    A secret field absent from values keeps its saved value: the page never has it, unless
    the edit changes where the block connects (see secret_destinations). A change saved by
    someone else since (another version) is refused, never overwritten.
    """
    from core_blocks.block import Block
    from core_blocks.documents import load_block
    from core_blocks.store import get_store
    from core_blocks.ui.secret_destinations import kept_secrets_refusal, referrers_refusal

    loaded = load_block(Block, f"{slug}/{name}")
    if loaded._block_document_version != version:
        raise BlockConflictError(
            f"{slug}/{name} was changed by someone else since you opened it (version "
            f"{version}, now {loaded._block_document_version}). Reload the page, reapply your "
            "change and save.")
    cls = type(loaded)
    current = {field: getattr(loaded, field) for field in cls.model_fields}
    given = _resolve_nested(cls, values)
    checked = _validated(cls, {**current, **given})
    refusal = (kept_secrets_refusal(cls, loaded, given)
               or referrers_refusal(get_store(), cls, loaded, given))
    if refusal:
        raise FieldErrors(*refusal)
    # model_copy keeps what the block was loaded as (id, version): save checks them again,
    # so a change saved between this load and this save is refused too.
    updated = loaded.model_copy(update={f: getattr(checked, f) for f in cls.model_fields})
    updated.save(name, overwrite=True)
    return {"type": slug, "name": name, "id": updated._block_document_id,
            "version": updated._block_document_version}


def delete_block(slug: str, name: str) -> dict[str, Any]:
    """`blocks delete --yes --json`; refused, naming the referrers, while a block uses it."""
    from core_blocks.block import Block
    from core_blocks.documents import delete_block as delete
    from core_blocks.store import get_store

    row = _row(get_store(), slug, name)
    delete(Block, f"{slug}/{name}")
    return {"type": slug, "name": name, "id": row.id}


def _row(store, slug: str, name: str):
    from core_blocks.documents import not_found
    from core_blocks.naming import check_name

    check_name(name)
    row = store.get_document(slug, name)
    if row is None:
        raise not_found(store, slug, name)
    return row


def _schema_of(slug: str) -> dict[str, Any]:
    """The type's schema from its plugin, else as `blocks register` recorded it."""
    from core_blocks.errors import CoreBlocksError
    from core_blocks.store import get_store

    try:
        return type_schema(slug)
    except CoreBlocksError:
        recorded = {t.slug: t.schema for t in get_store().list_types()}
        return recorded.get(slug, {})


def _resolve_nested(cls, values: dict[str, Any]) -> dict[str, Any]:
    """Values with each nested block field's "type/name" replaced by that saved block."""
    from core_blocks.block import Block, block_fields
    from core_blocks.documents import load_block

    if not isinstance(values, dict):
        raise BlockValidationError(f"The values of a {cls._block_type_slug} block must be a "
                                   "JSON object of field values.")
    resolved = dict(values)
    _refuse_non_finite(cls, resolved)
    for field, accepted in block_fields(cls).items():
        ref = resolved.get(field)
        if not isinstance(ref, str):
            continue
        block = load_block(Block, ref)
        if not isinstance(block, accepted):
            slugs = ", ".join(a._block_type_slug for a in accepted)
            raise FieldErrors(f"Field {field!r} of {cls._block_type_slug} takes {slugs}, not "
                              f"{type(block)._block_type_slug}.",
                              {field: f"Takes {slugs}, not {type(block)._block_type_slug}."})
        resolved[field] = block
    return resolved


def _refuse_non_finite(cls, values: dict[str, Any]) -> None:
    """FieldErrors for NaN or infinite numbers (a client's NaN, 1e999), saved as null else."""
    from core_blocks.json_numbers import non_finite_at, non_finite_message

    found = {f: non_finite_at(v) for f, v in values.items()}
    by_field = {f: f"Invalid {cls._block_type_slug} block: field {f!r} {non_finite_message(at)}."
                for f, at in found.items() if at}
    if by_field:
        raise FieldErrors(" ".join(by_field.values()), by_field)


def _validated(cls, values: dict[str, Any]):
    """cls(**values), or FieldErrors in the CLI's words: the whole sentence and each field's."""
    from pydantic import ValidationError
    from pydantic_core import PydanticCustomError

    from core_blocks.validation_errors import validation_error

    try:
        return cls._validate_raw(values)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False, include_context=False)
        overall = str(validation_error(cls, exc))
    by_field: dict[str, list] = {}
    for err in errors:
        by_field.setdefault(str(err["loc"][0]) if err["loc"] else "", []).append(err)
    messages = {}
    for field, errs in by_field.items():
        one = ValidationError.from_exception_data(cls.__name__, [
            {"type": PydanticCustomError(e["type"], e["msg"]), "loc": e["loc"], "input": None}
            for e in errs])
        messages[field] = str(validation_error(cls, one))
    raise FieldErrors(overall, messages)


# -- runs and concurrency limits -------------------------------------------------------------


def list_runs(flow: str | None = None, state: str | None = None, kind: str | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
    """`blocks runs ls --json`: newest first, without tracebacks."""
    from core_blocks.runtime.history import check_run_filters
    from core_blocks.runtime.history import list_runs as runs
    from core_blocks.store import get_store

    state, kind = check_run_filters(state, kind)
    found = runs(get_store(), flow=flow or None, state=state, kind=kind, limit=limit)
    return [{k: v for k, v in r.items() if k != "traceback"} for r in found]


def get_run(run_id: str) -> dict[str, Any]:
    """`blocks runs show --json`: states, parameters as stored, error, children, artifacts."""
    from core_blocks.runtime.history import find_run
    from core_blocks.store import get_store

    return find_run(get_store(), run_id)


def list_limits() -> list[dict[str, Any]]:
    """`blocks concurrency ls --json`: each limit with the slots held now."""
    from core_blocks.runtime.concurrency import list_limits as limits
    from core_blocks.store import get_store

    return limits(get_store())


def set_limit(name: str, slots: int) -> dict[str, Any]:
    """`blocks concurrency set NAME SLOTS`."""
    from core_blocks.runtime.concurrency import set_limit as put
    from core_blocks.store import get_store

    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 0:
        raise BlockValidationError(f"Slots of concurrency limit {name!r} must be a whole number "
                                   "0 or more.")
    put(get_store(), name, slots)
    return {"name": name, "slots": slots}


def delete_limit(name: str) -> dict[str, Any]:
    """`blocks concurrency delete NAME`."""
    from core_blocks.runtime.concurrency import delete_limit as remove
    from core_blocks.store import get_store

    remove(get_store(), name)
    return {"name": name}
