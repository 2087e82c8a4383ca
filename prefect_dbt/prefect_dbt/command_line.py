"""`blocks dbt import-profiles`: a team's profiles.yml becomes saved dbt-cli-profile blocks,
its passwords moved to the secret backend in one step."""

from __future__ import annotations

from pathlib import Path

import click

from core_blocks.cli.output import UserError, say


@click.group("dbt", no_args_is_help=True)
def dbt_group() -> None:
    """dbt profiles as blocks."""


@dbt_group.command("import-profiles")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", "profile_name", help="Only this profile (default: every profile).")
@click.option("--target", help="Only this target (default: every target of each profile).")
@click.option("--name", "block_name",
              help="Block name, for one profile and target (default: PROFILE-TARGET).")
@click.option("--resolve-env-vars/--keep-env-vars", default=False, show_default=True,
              help="Replace env_var() references by their values now (they then move to the "
                   "secret backend), or keep them for dbt to read at run time.")
@click.option("--overwrite", is_flag=True, help="Replace blocks that already exist.")
def import_profiles(path: Path, profile_name: str | None, target: str | None,
                    block_name: str | None, resolve_env_vars: bool, overwrite: bool) -> None:
    """Save each target of a profiles.yml as a dbt-cli-profile block.

    PATH is the profiles.yml file, e.g. ~/.dbt/profiles.yml. Password-like keys become
    secret fields. The file itself is left as it is: delete its secrets once the blocks work.
    """
    from core_blocks.errors import BlockExistsError
    from core_blocks.naming import slugify
    from prefect_dbt.cli.credentials import DbtCliProfile
    from prefect_dbt.profiles_import import read_profiles

    profiles = {k: v for k, v in read_profiles(path).items() if k != "config"}
    if profile_name is not None and profile_name not in profiles:
        raise UserError(f"{path} has no profile {profile_name!r}. Its profiles: "
                        f"{', '.join(sorted(profiles)) or 'none'}.")
    chosen = [
        (name, output)
        for name in ([profile_name] if profile_name else sorted(profiles))
        for output in ([target] if target else sorted((profiles[name] or {}).get("outputs")
                                                      or {}))
    ]
    if not chosen:
        raise UserError(f"{path} has no targets to import (no profile has outputs).")
    if block_name is not None and len(chosen) != 1:
        raise UserError(f"--name names one block, but {len(chosen)} targets were chosen. "
                        "Add --profile and --target, or leave --name out.")
    blocks = [(block_name or slugify(f"{name}-{output}"),
               DbtCliProfile.from_profiles_yml(path, name, output, resolve_env_vars))
              for name, output in chosen]  # all checked before any is saved
    if not overwrite:
        taken = [name for name, _ in blocks if name in DbtCliProfile.list()]
        if taken:
            raise UserError(_already_saved(taken, len(blocks)))
    for name, block in blocks:
        try:
            block.save(name, overwrite=overwrite)
        except BlockExistsError:  # saved by someone else meanwhile
            raise UserError(_already_saved([name], len(blocks))) from None
        say(f"Saved dbt-cli-profile/{name} (profile {block.name}, target {block.target}, "
            f"{block.target_configs.get_configs()['type']}).")


def _already_saved(names: list[str], chosen: int) -> str:
    """The refusal for targets whose blocks exist: this command's own flags, not `create`'s."""
    refs = ", ".join(f"dbt-cli-profile/{name}" for name in names)
    other = " or --name to save it under another name" if chosen == 1 else ""
    return (f"{refs} already exist{'s' if len(names) == 1 else ''}; nothing was saved. "
            f"Pass --overwrite to replace {'it' if len(names) == 1 else 'them'}{other}.")
