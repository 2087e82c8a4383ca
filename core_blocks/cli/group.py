"""The top-level `blocks` group: built-in commands first, plugin commands loaded when needed.

`blocks ls` and every other built-in command never load a plugin. A name that is not built in,
`blocks --help` and shell completion call the register_commands hook once (plugin modules are
imported, their block types are not); a LazyCommand is imported only when it runs.
"""

from __future__ import annotations

import click

from core_blocks.cli.lazy_command import LazyCommand


class BlocksGroup(click.Group):
    """A click group listing commands in the order they were added, plugins' last."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._builtins: frozenset[str] | None = None
        self.plugin_errors: list[str] = []

    def load_plugin_commands(self) -> None:
        """Let each plugin add its commands (once); their failures go to plugin_errors."""
        if self._builtins is not None:
            return
        from core_blocks.errors import CoreBlocksError
        from core_blocks.registry import get_plugins

        self._builtins = frozenset(self.commands)
        try:
            self.plugin_errors = get_plugins().add_commands(self, self._builtins)
        except CoreBlocksError as exc:  # e.g. a bad setting: built-in commands still work
            self.plugin_errors = [str(exc)]

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugin_commands()
        return list(self.commands)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands:
            self.load_plugin_commands()
        command = self.commands.get(name)
        if not isinstance(command, LazyCommand):
            return command
        if ctx.resilient_parsing:  # shell completion: a broken plugin must not break it
            from core_blocks.errors import PluginError

            try:
                return command.resolve()
            except PluginError:
                return command
        return command.resolve()

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            if self.plugin_errors:  # the command may belong to the plugin that failed
                exc.message += " Some plugins failed to add commands: see blocks doctor."
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Each command's own short help, a LazyCommand's included: listing imports nothing.
        names = self.list_commands(ctx)
        rows = [(name, self.commands[name]) for name in names if not self.commands[name].hidden]
        if rows:
            with formatter.section("Commands"):  # the whole first sentence, wrapped
                formatter.write_dl([(name, command.get_short_help_str(limit=300))
                                    for name, command in rows])
        if self.plugin_errors:
            from core_blocks.cli.output import warn

            for message in self.plugin_errors:
                warn(message)
