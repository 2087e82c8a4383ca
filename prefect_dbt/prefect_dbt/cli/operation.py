"""DbtCoreOperation: dbt commands saved by name as a block.

Apart from the tasks (prefect_dbt.cli.commands, which re-exports it under Prefect's path), so
registering the block types does not import the task runtime: `blocks types` and
`blocks create` stay fast.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from core_blocks import Block
from core_blocks.dispatch import threaded_dispatch
from prefect_dbt.cli.credentials import DbtCliProfile
from prefect_dbt.cli.process import CommandResult, DbtCoreProcess, is_dbt, run_command
from prefect_dbt.errors import DbtConfigError

if TYPE_CHECKING:  # results imports dbt: registering this block type must not
    from prefect_dbt.results import DbtResult


class DbtCoreOperation(Block):
    """dbt commands to run in order against one project, saved by name.

        >>> op = DbtCoreOperation(commands=["dbt seed", "dbt build"], project_dir="shop")
        >>> op.commands
        ['dbt seed', 'dbt build']
    """

    _block_type_name = "dbt Core Operation"
    _block_type_slug = "dbt-core-operation"
    _documentation_url = "https://docs.getdbt.com/reference/dbt-commands"

    commands: list[str] = Field(
        min_length=1, description="Commands, run in this order: dbt ones in this process, "
        "others (pwd, ls) as a subprocess in project_dir")
    project_dir: str | None = Field(default=None, description="The dbt project's folder")
    profiles_dir: str | None = Field(
        default=None, description="Folder of profiles.yml; dbt_cli_profile is written there "
        "if it has none, or with overwrite_profiles")
    dbt_cli_profile: DbtCliProfile | None = Field(
        default=None, description="Profile to run with, written to profiles_dir or else a "
        "private temporary folder")
    overwrite_profiles: bool = Field(
        default=False, description="Write the profile to profiles_dir even if it has a "
        "profiles.yml, replacing it")
    stream_output: bool = Field(
        default=True, description="Send dbt's log lines to the run's log as they happen")

    @field_validator("project_dir", "profiles_dir", mode="before")
    @classmethod
    def _path_as_text(cls, value: Any) -> Any:
        """A pathlib.Path is taken as Prefect's field takes it, and saved as its text."""
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @threaded_dispatch
    def run(self) -> list[DbtResult | CommandResult]:
        """Run every command in order and return their results; stops at the first failure,
        raising it. A dbt command runs as a trigger_dbt_cli_command task (in this process);
        any other (`pwd`, `ls models`) as a subprocess in project_dir, split like a shell but
        without one (no pipes, no `$VAR`). In async code `await operation.run()` runs them in
        a worker thread (Prefect 3's rule).

        dbt_cli_profile is written once, before the first command, and serves them all; a
        temporary folder for it is removed after the last.
        """
        from prefect_dbt.cli.commands import _profiles_dir, trigger_dbt_cli_command

        self._check_profile_source()
        results: list[DbtResult | CommandResult] = []
        with _profiles_dir(self.dbt_cli_profile, self.profiles_dir,
                           self.overwrite_profiles) as folder:
            for command in self.commands:
                if not is_dbt(command):
                    results.append(run_command(command, self.project_dir))
                    continue
                # The profile goes with each command too, so that its secrets are masked in
                # the command's log; the file written above holds it, so it is not rewritten.
                results.append(trigger_dbt_cli_command(
                    command, project_dir=self.project_dir, profiles_dir=folder,
                    dbt_cli_profile=self.dbt_cli_profile, overwrite_profiles=False,
                    stream_output=self.stream_output, _sync=True))
        return results

    def _check_profile_source(self) -> None:
        """Refuse, before any command runs, a profiles_dir that needs a profile written into
        it (overwrite_profiles, or no profiles.yml there) when there is none to write."""
        if self.dbt_cli_profile is not None or self.profiles_dir is None:
            return
        path = Path(self.profiles_dir).expanduser() / "profiles.yml"
        if self.overwrite_profiles or not path.exists():
            raise DbtConfigError(
                "Since overwrite_profiles is True or profiles_dir has no profiles.yml "
                f"({str(path)!r}), a dbt_cli_profile is needed to write one: set "
                "dbt_cli_profile, or point profiles_dir at a folder with a profiles.yml.")

    def trigger(self) -> DbtCoreProcess:
        """Start running the commands in the background (as Prefect's block does); the
        process's `wait_for_completion()`, `fetch_result()` and `return_code` follow it."""
        return DbtCoreProcess(functools.partial(self.run, _sync=True))

    def __enter__(self) -> DbtCoreOperation:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Nothing to close: a triggered process finishes on its own (wait for it inside)."""
