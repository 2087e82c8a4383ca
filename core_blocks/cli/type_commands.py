"""`blocks types`, `blocks schema`, `blocks register`: what block types exist."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from core_blocks.cli.output import UserError, json_option, print_json, table, warn


@click.command("types")
@json_option
def types_command(as_json: bool) -> None:
    """List the block types the installed plugins provide."""
    from core_blocks.listings import type_rows

    rows, errors = type_rows()
    if as_json:
        print_json({"types": rows, "plugin_errors": errors})
        return
    table(None, ["type", "name", "from", "capabilities", "description"],
          [[r["slug"], r["name"], r["source"], ", ".join(r["capabilities"]), r["description"]]
           for r in rows])
    for message in errors.values():
        warn(message)


@click.command("schema")
@click.argument("type_slug", metavar="TYPE")
@json_option
def schema_command(type_slug: str, as_json: bool) -> None:
    """Print a block type's JSON schema.

    TYPE is a block type slug, e.g. secret.
    """
    from core_blocks.documents import class_for_slug

    print_json(class_for_slug(type_slug).schema())


@click.command("register")
@click.option("-m", "--module", help="Module to import.")
@click.option("-f", "--file", type=click.Path(path_type=Path), help="Python file to import.")
@json_option
def register_command(module: str | None, file: Path | None, as_json: bool) -> None:
    """Record the block types of a module or file (their schemas) in the store."""
    from core_blocks.documents import record_type
    from core_blocks.store import get_store

    if (module is None) == (file is None):
        raise UserError("Give exactly one of -m MODULE or -f FILE.")
    loaded, label = _import_source(module, file)
    classes = _block_types_in(loaded)
    if not classes:
        raise UserError(f"No block types found in {label}: define a Block subclass there, or a "
                        "register_block_types hookimpl.")
    store = get_store()
    with store.transaction() as tx:
        for cls in classes:
            record_type(store, tx, cls)
    slugs = [cls._block_type_slug for cls in classes]
    if as_json:
        print_json({"registered": slugs, "source": label})
    else:
        click.echo(f"Registered {len(slugs)} block type(s) from {label}: {', '.join(slugs)}")


def _import_source(module: str | None, file: Path | None):
    if module is not None:
        try:
            return importlib.import_module(module), f"module {module}"
        except ImportError as exc:
            raise UserError(f"Cannot import module {module!r}: {exc}. Check the name and that "
                            "it is installed in this environment.") from None
    assert file is not None
    if not file.is_file():
        raise UserError(f"No such file: {file}")
    from core_blocks.registry import import_file

    try:
        return import_file(file.resolve()), str(file)
    except Exception as exc:
        raise UserError(f"Cannot import {file}: {type(exc).__name__}: {exc}") from None


def _block_types_in(module) -> list:
    import inspect

    from core_blocks.block import Block

    hook = getattr(module, "register_block_types", None)
    if hook is not None and hasattr(hook, "core_blocks_impl"):
        return list(hook() or [])
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Block) and obj is not Block
            and obj.__module__ == module.__name__ and not inspect.isabstract(obj)]
