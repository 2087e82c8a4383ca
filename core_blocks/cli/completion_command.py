"""`blocks completion bash|zsh|fish`, and completing saved block references from the store."""

from __future__ import annotations

import click

_SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(_SHELLS))
def completion_command(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    Enable it with e.g. `eval "$(blocks completion bash)"` in ~/.bashrc.
    """
    from click.shell_completion import get_completion_class

    root = click.get_current_context().find_root().command
    script = get_completion_class(shell)(root, {}, "blocks", "_BLOCKS_COMPLETE").source()
    click.echo(script)


def complete_block_ref(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Saved blocks' TYPE/NAME starting with what was typed (reads the store only)."""
    from click.shell_completion import CompletionItem

    from core_blocks.errors import CoreBlocksError
    from core_blocks.store import get_store

    try:
        refs = [row.ref for row in get_store().list_documents()]
    except CoreBlocksError:  # no usable store: nothing to offer, never a traceback
        return []
    return [CompletionItem(ref) for ref in refs if ref.startswith(incomplete)]
