"""`blocks ls`, `create`, `inspect`, `delete`: saved blocks."""

from __future__ import annotations

import click

from core_blocks.cli.completion_command import complete_block_ref
from core_blocks.cli.output import (
    UserError,
    is_interactive,
    json_option,
    listing,
    more_line,
    print_json,
    table,
)

# click arguments carry no help text: each command's docstring explains TYPE/NAME.
ref_argument = click.argument("ref", metavar="TYPE/NAME", shell_complete=complete_block_ref)


DEFAULT_PAGE = 100  # rows `blocks ls` prints unless --limit says otherwise


@click.command("ls")
@click.option("--type", "-t", "type_slug", help="Only this block type.")
@click.option("--name", "name_pattern", metavar="PATTERN",
              help="Only names matching this glob (* any text, ? one character), e.g. 'prod-*'.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None,
              help=f"At most this many blocks [default: {DEFAULT_PAGE}; --json: all].")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Skip this many blocks first (the next page).")
@click.option("--all", "include_anonymous", is_flag=True, help="Include anonymous nested blocks.")
@json_option
def ls_command(type_slug: str | None, name_pattern: str | None, limit: int | None, offset: int,
               include_anonymous: bool, as_json: bool) -> None:
    """List saved blocks, a page at a time (reads the store only: no plugin or secret is loaded).

    On a terminal the rows are aligned; piped, each is one tab-separated line without a header.
    --json lists every match unless --limit or --offset is given.
    """
    from core_blocks.store import get_store

    store = get_store()
    page = limit if limit is not None else (None if as_json else DEFAULT_PAGE)
    filters = {"include_anonymous": include_anonymous, "name_pattern": name_pattern}
    rows = store.list_documents(type_slug, limit=page, offset=offset, **filters)
    if type_slug and not rows and not offset:
        _check_type(store, type_slug)
    if as_json:
        from core_blocks.listings import block_row

        print_json([block_row(r) for r in rows])
        return
    if not rows:
        what = f"{type_slug} blocks" if type_slug else "blocks"
        which = f" named {name_pattern!r}" if name_pattern else ""
        where = f" after the first {offset}" if offset else ""
        click.echo(f"No {what}{which} saved{where}. Create one with: blocks create TYPE/NAME")
        return
    more = None
    if len(rows) == page:  # a full page: count the rest (one indexed COUNT)
        total = store.count_listed(type_slug, **filters)
        more = more_line(len(rows), offset, total, "blocks")
    listing(["block", "id", "updated", "version"],
            [[r.ref, r.id, r.updated[:19].replace("T", " "), r.version] for r in rows], more)


def _check_type(store, type_slug: str) -> None:
    """Raise the unknown-type error unless the store or a plugin knows type_slug.

    Only reached when nothing of that type is listed, so `ls` loads plugins only then.
    """
    if store.list_documents(type_slug, include_anonymous=True):
        return
    if any(t.slug == type_slug for t in store.list_types()):
        return  # recorded by `blocks register`
    from core_blocks.documents import class_for_slug

    class_for_slug(type_slug)


@click.command("create")
@ref_argument
@click.option("--set", "-s", "sets", multiple=True, metavar="FIELD=VALUE",
              help="A field value; FIELD=TYPE/NAME for a nested block.")
@click.option("--from-json", metavar="FILE|-",
              help="Field values from a JSON object (- for stdin).")
@click.option("--overwrite", is_flag=True, help="Replace a block of that name.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"type", "name", "id"} as JSON instead of a sentence.')
def create_command(ref: str, sets: tuple[str, ...], from_json: str | None, overwrite: bool,
                   as_json: bool) -> None:
    """Create a block: from --set and --from-json, prompting for missing fields on a terminal.

    TYPE/NAME is a block reference, e.g. secret/prod-db. A --set value is JSON for a field
    that holds numbers, booleans, lists or objects, and plain text for a text field.
    """
    from core_blocks.cli.create_input import collect_values
    from core_blocks.documents import class_for_slug
    from core_blocks.naming import check_name, split_ref

    slug, name = split_ref(ref)
    check_name(name)
    cls = class_for_slug(slug)
    values = collect_values(cls, ref, list(sets), from_json)
    block_id = cls(**values).save(name, overwrite=overwrite)
    if as_json:
        print_json({"type": slug, "name": name, "id": str(block_id)})
    else:
        click.echo(f"Saved {slug}/{name} ({block_id}).")


@click.command("inspect")
@ref_argument
@click.option("--show-secrets", is_flag=True, help="Reveal secret values.")
@json_option
def inspect_command(ref: str, show_secrets: bool, as_json: bool) -> None:
    """Show a saved block; secrets appear as ******** unless --show-secrets.

    TYPE/NAME is a block reference, e.g. secret/prod-db.
    """
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
        fields = Block.load(ref).model_dump(mode="json", include_secrets=True, by_alias=True)
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


@click.command("delete")
@ref_argument
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"type", "name", "id"} of the deleted block as JSON.')
def delete_command(ref: str, yes: bool, as_json: bool) -> None:
    """Delete a saved block and its secrets (refused while another block references it).

    TYPE/NAME is a block reference, e.g. secret/prod-db.
    """
    from core_blocks.block import Block
    from core_blocks.naming import check_name, split_ref
    from core_blocks.store import get_store

    slug, name = split_ref(ref)
    check_name(name)
    if not yes:
        if not is_interactive():
            raise UserError(f"Refusing to delete {ref} without confirmation: pass --yes.")
        # With --json, stdout carries only the JSON: the question goes to stderr.
        click.confirm(f"Delete {ref}?", abort=True, err=as_json)
    row = get_store().get_document(slug, name)
    Block.delete(ref)  # a missing block raises the same error as everywhere
    if as_json:
        print_json({"type": slug, "name": name, "id": row.id})
    else:
        click.echo(f"Deleted {ref}.")
