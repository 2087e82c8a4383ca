"""core-blocks-dbt's plugin (entry point `dbt`): its block types and `blocks dbt` commands.

Imports happen inside the hooks, and no block module imports dbt at import time, so
discovery (`blocks types`, `blocks --help`) never pays for dbt's import.
"""

from core_blocks import hookimpl


@hookimpl
def register_block_types():
    from prefect_dbt.cli.configs.base import GlobalConfigs, TargetConfigs
    from prefect_dbt.cli.configs.bigquery import BigQueryTargetConfigs
    from prefect_dbt.cli.configs.duckdb import DuckDbTargetConfigs
    from prefect_dbt.cli.configs.postgres import PostgresTargetConfigs
    from prefect_dbt.cli.configs.snowflake import SnowflakeTargetConfigs
    from prefect_dbt.cli.credentials import DbtCliProfile
    from prefect_dbt.cli.operation import DbtCoreOperation

    return [DbtCliProfile, TargetConfigs, GlobalConfigs, DuckDbTargetConfigs,
            PostgresTargetConfigs, SnowflakeTargetConfigs, BigQueryTargetConfigs,
            DbtCoreOperation]


@hookimpl
def register_commands(cli):
    from core_blocks.cli.lazy_command import LazyCommand

    cli.add_command(LazyCommand("dbt", "prefect_dbt.command_line:dbt_group",
                                help="dbt profiles as blocks: import-profiles."))
