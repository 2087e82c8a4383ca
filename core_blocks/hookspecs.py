"""The plugin contract: read this first.

A plugin is a module that implements some of these hooks with the `hookimpl` marker; it is
found through an entry point of group `core_blocks` (a packaged plugin) or as a `.py` file in
a plugin folder (CORE_BLOCKS_PLUGINS_DIRS). The core's own block types and secret backends
use these same hooks (`core_blocks/plugin.py`).

Hooks may gain arguments later: pluggy passes each implementation only those it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # annotations only: a real import here would cost every start-up
    import click

    from core_blocks.block import Block
    from core_blocks.secrets.base import SecretBackend

hookspec = pluggy.HookspecMarker("core_blocks")
hookimpl = pluggy.HookimplMarker("core_blocks")  # re-exported as core_blocks.hookimpl


@hookspec
def register_block_types() -> list[type[Block]]:
    """Return the block types this plugin adds.

    Called once per process, at the first lookup of a block type; never by `blocks --help`.
    Import your block modules inside the implementation, and never your SDK: discovery must
    stay fast and must work without the SDK installed.

        @hookimpl
        def register_block_types():
            from my_package.blocks import MyBlock
            return [MyBlock]
    """


@hookspec
def register_secret_backends() -> list[type[SecretBackend] | str]:
    """Return the secret backend classes this plugin adds (subclasses of SecretBackend).

    A backend implements `read`, `write` and `delete` on stored values (JSON; bytes as base64);
    the base class hands loads their values decoded (`read_values`), and a read-only backend
    sets `writable = False`. Each class has a unique `name`, chosen with
    CORE_BLOCKS_SECRET_BACKEND=name. An item may also be `"name = module:Class"`: the registry
    then imports it on its own, so a backend whose import fails (a missing dependency, another
    platform) is reported by name and the plugin's other backends keep working.

        @hookimpl
        def register_secret_backends():
            from my_package.vault import VaultSecretBackend
            return [VaultSecretBackend, "gpg = my_package.gpg_backend:GpgSecretBackend"]
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the `blocks` command line with `cli.add_command`.

    `cli` is the top-level click group. Called once per process, only when a command name is
    not a built-in one (and for `blocks --help` and shell completion): `blocks ls` never calls
    it. `--help` lists your commands, so keep this cheap: add a `LazyCommand` naming where the
    real command lives; its module is imported when the command runs. A built-in command cannot
    be replaced, and an error here is reported (`blocks doctor`) without breaking other commands.

        @hookimpl
        def register_commands(cli):
            from core_blocks.cli.lazy_command import LazyCommand

            cli.add_command(LazyCommand("dbt", "my_package.commands:dbt_group",
                                        help="Import dbt profiles as blocks."))

    `my_package/commands.py` then defines `dbt_group` with click (`@click.group()`), and
    `blocks dbt import-profiles` runs its `import-profiles` command.
    """
