"""`blocks ls`, `create`, `inspect`, `delete`: saved blocks."""

from __future__ import annotations

import typer

from core_blocks.cli.output import JsonOption, UserError, is_interactive, print_json, table

RefArgument = typer.Argument(..., metavar="TYPE/NAME", help="Block reference, e.g. secret/prod-db.")


def ls_command(
    type_slug: str | None = typer.Option(None, "--type", "-t", help="Only this block type."),
    include_anonymous: bool = typer.Option(False, "--all", help="Include anonymous nested blocks."),
    as_json: bool = JsonOption,
) -> None:
    """List saved blocks (reads the store only: no plugin or secret is loaded)."""
    from core_blocks.store import get_store

    rows = get_store().list_documents(type_slug, include_anonymous=include_anonymous)
    if as_json:
        print_json([{"type": r.type_slug, "name": r.name, "id": r.id, "updated": r.updated,
                     "version": r.version, "anonymous": r.anonymous} for r in rows])
        return
    if not rows:
        what = f"{type_slug} blocks" if type_slug else "blocks"
        typer.echo(f"No {what} saved. Create one with: blocks create TYPE/NAME")
        return
    table(None, ["block", "id", "updated", "version"],
          [[r.ref, r.id, r.updated[:19].replace("T", " "), r.version] for r in rows])


def create_command(
    ref: str = RefArgument,
    sets: list[str] = typer.Option([], "--set", "-s", metavar="FIELD=VALUE",
                                   help="A field value; FIELD=TYPE/NAME for a nested block."),
    from_json: str | None = typer.Option(None, "--from-json", metavar="FILE|-",
                                            help="Field values from a JSON object (- for stdin)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a block of that name."),
) -> None:
    """Create a block: from --set and --from-json, prompting for missing fields on a terminal."""
    from core_blocks.cli.create_input import collect_values
    from core_blocks.documents import class_for_slug
    from core_blocks.naming import check_name, split_ref

    slug, name = split_ref(ref)
    check_name(name)
    cls = class_for_slug(slug)
    values = collect_values(cls, ref, sets, from_json)
    block_id = cls(**values).save(name, overwrite=overwrite)
    typer.echo(f"Saved {slug}/{name} ({block_id}).")


def inspect_command(
    ref: str = RefArgument,
    show_secrets: bool = typer.Option(False, "--show-secrets", help="Reveal secret values."),
    as_json: bool = JsonOption,
) -> None:
    """Show a saved block; secrets appear as ******** unless --show-secrets."""
    from core_blocks.block import Block
    from core_blocks.documents import describe_document, not_found
    from core_blocks.naming import check_name, split_ref
    from core_blocks.store import get_store

    slug, name = split_ref(ref)
    check_name(name)
    store = get_store()
    row = store.get_document(slug, name)
    if row is None:
        raise not_found(store, slug, name)
    if show_secrets:
        fields = Block.load(ref).model_dump(mode="json", include_secrets=True)
    else:
        fields = describe_document(store, row)
    info = {"type": row.type_slug, "name": row.name, "id": row.id, "created": row.created,
            "updated": row.updated, "version": row.version, "secret_backend": row.secret_backend,
            "fields": fields}
    if as_json:
        print_json(info)
        return
    import json

    table(f"{row.ref}  (id {row.id}, version {row.version})", ["field", "value"],
          [[k, v if isinstance(v, str) else json.dumps(v)] for k, v in fields.items()])


def delete_command(
    ref: str = RefArgument,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a saved block and its secrets (refused while another block references it)."""
    from core_blocks.block import Block
    from core_blocks.naming import check_name, split_ref

    _, name = split_ref(ref)
    check_name(name)
    if not yes:
        if not is_interactive():
            raise UserError(f"Refusing to delete {ref} without confirmation: pass --yes.")
        typer.confirm(f"Delete {ref}?", abort=True)
    Block.delete(ref)
    typer.echo(f"Deleted {ref}.")
