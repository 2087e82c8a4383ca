"""A command whose code is imported only when it runs: what a plugin adds in register_commands."""

from __future__ import annotations

import importlib

import click

from core_blocks.errors import PluginError


class LazyCommand(click.Command):
    """A placeholder for the click command or group at `target` ("module:attribute").

    `blocks --help` shows `help` without importing anything; the `blocks` group imports the
    target when the command is run, asked for its own help, or completed. Add it to the
    top-level group given to the register_commands hook.

        >>> command = LazyCommand("dbt", "my_package.commands:dbt_group", help="dbt commands.")
        >>> command.get_short_help_str()
        'dbt commands.'
    """

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name, help=help)
        self.target = target
        self._command: click.Command | None = None

    def resolve(self) -> click.Command:
        """The real command, imported once; a PluginError naming it when that fails."""
        if self._command is None:
            module, _, attribute = self.target.partition(":")
            try:
                command = getattr(importlib.import_module(module), attribute)
            except Exception as exc:
                raise PluginError(
                    f"Command {self.name!r} failed to load from {self.target}: "
                    f"{type(exc).__name__}: {exc}. Reinstall the plugin that adds it; "
                    "blocks doctor lists the plugins.") from None
            if not isinstance(command, click.Command):
                raise PluginError(f"Command {self.name!r}: {self.target} is a "
                                  f"{type(command).__name__}, not a click command. Fix the "
                                  "plugin's register_commands.")
            command.name = self.name  # `blocks NAME --help` shows the name the user typed
            self._command = command
        return self._command
