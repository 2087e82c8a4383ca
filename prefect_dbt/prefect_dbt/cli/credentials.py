"""DbtCliProfile: one dbt profile and target, written as a profiles.yml when dbt runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from core_blocks import Block
from prefect_dbt.cli.configs.base import GlobalConfigs, TargetConfigs
from prefect_dbt.cli.configs.bigquery import BigQueryTargetConfigs
from prefect_dbt.cli.configs.duckdb import DuckDbTargetConfigs
from prefect_dbt.cli.configs.postgres import PostgresTargetConfigs
from prefect_dbt.cli.configs.snowflake import SnowflakeTargetConfigs

AnyTargetConfigs = (DuckDbTargetConfigs | PostgresTargetConfigs | SnowflakeTargetConfigs
                    | BigQueryTargetConfigs | TargetConfigs)


class DbtCliProfile(Block):
    """A dbt profile: its name (dbt_project.yml's `profile:`), the target to use, that target's
    connection and optional run flags. Its secrets stay in the secret backend until a run
    writes them to a private, temporary profiles.yml.

        >>> from prefect_dbt import DbtCliProfile, DuckDbTargetConfigs
        >>> profile = DbtCliProfile(name="shop", target="dev",
        ...                         target_configs=DuckDbTargetConfigs(path="shop.duckdb"))
        >>> profile.get_profile()["shop"]["outputs"]["dev"]["type"]
        'duckdb'
    """

    _block_type_name = "dbt CLI Profile"
    _block_type_slug = "dbt-cli-profile"
    _documentation_url = "https://docs.getdbt.com/docs/core/connect-data-platform/connection-profiles"

    name: str = Field(description="Profile name, as dbt_project.yml's `profile:` names it")
    target: str = Field(description="Target (output) name within the profile, e.g. dev")
    target_configs: AnyTargetConfigs = Field(description="The target's connection settings")
    global_configs: GlobalConfigs | None = Field(
        default=None, description="dbt run flags (profiles.yml's `config:` section)")

    def get_profile(self) -> dict[str, Any]:
        """The profiles.yml content, secrets revealed: write it only where no one else reads.

        `config:` (the run flags) is always there, empty without global_configs, as Prefect's.
        """
        configs = self.global_configs.get_configs() if self.global_configs else {}
        return {"config": configs, self.name: {
            "target": self.target,
            "outputs": {self.target: self.target_configs.get_configs()},
        }}

    @classmethod
    def from_profiles_yml(cls, path: str | Path, profile_name: str, target: str | None = None,
                          resolve_env_vars: bool = False) -> DbtCliProfile:
        """The profile `profile_name` of a profiles.yml, one target (default: its `target:`),
        as typed blocks: password-like keys become secret fields.

        `env_var('X')` references stay as dbt renders them at run time, or with
        `resolve_env_vars=True` are replaced by the environment's values now (moving
        those secrets into the secret backend when the block is saved).
        """
        from prefect_dbt.profiles_import import import_profile

        return import_profile(Path(path), profile_name, target, resolve_env_vars)
