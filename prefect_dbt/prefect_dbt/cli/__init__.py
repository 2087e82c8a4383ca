"""Prefect prefect-dbt's import paths: `from prefect_dbt.cli import DbtCliProfile, ...`.

Names load on first use; dbt itself only when a command runs.
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

_EXPORTS = {  # public name -> module defining it
    "DbtCliProfile": "prefect_dbt.cli.credentials",
    "DbtCoreOperation": "prefect_dbt.cli.operation",
    "trigger_dbt_cli_command": "prefect_dbt.cli.commands",
    "run_dbt_build": "prefect_dbt.cli.commands",
    "run_dbt_run": "prefect_dbt.cli.commands",
    "run_dbt_model": "prefect_dbt.cli.commands",
    "run_dbt_source_freshness": "prefect_dbt.cli.commands",
    "run_dbt_test": "prefect_dbt.cli.commands",
    "run_dbt_seed": "prefect_dbt.cli.commands",
    "run_dbt_snapshot": "prefect_dbt.cli.commands",
    "TargetConfigs": "prefect_dbt.cli.configs.base",
    "GlobalConfigs": "prefect_dbt.cli.configs.base",
    "DuckDbTargetConfigs": "prefect_dbt.cli.configs.duckdb",
    "PostgresTargetConfigs": "prefect_dbt.cli.configs.postgres",
    "SnowflakeTargetConfigs": "prefect_dbt.cli.configs.snowflake",
    "BigQueryTargetConfigs": "prefect_dbt.cli.configs.bigquery",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers
    from prefect_dbt.cli.commands import (
        run_dbt_build,
        run_dbt_model,
        run_dbt_run,
        run_dbt_seed,
        run_dbt_snapshot,
        run_dbt_source_freshness,
        run_dbt_test,
        trigger_dbt_cli_command,
    )
    from prefect_dbt.cli.configs.base import GlobalConfigs, TargetConfigs
    from prefect_dbt.cli.configs.bigquery import BigQueryTargetConfigs
    from prefect_dbt.cli.configs.duckdb import DuckDbTargetConfigs
    from prefect_dbt.cli.configs.postgres import PostgresTargetConfigs
    from prefect_dbt.cli.configs.snowflake import SnowflakeTargetConfigs
    from prefect_dbt.cli.credentials import DbtCliProfile
    from prefect_dbt.cli.operation import DbtCoreOperation
