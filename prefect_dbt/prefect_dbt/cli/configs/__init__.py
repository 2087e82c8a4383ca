"""Target configs: `TargetConfigs` for any adapter, typed ones per adapter in their modules
(`prefect_dbt.cli.configs.postgres` ...), loaded on first use."""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

_EXPORTS = {  # public name -> module defining it
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
    from prefect_dbt.cli.configs.base import GlobalConfigs, TargetConfigs
    from prefect_dbt.cli.configs.bigquery import BigQueryTargetConfigs
    from prefect_dbt.cli.configs.duckdb import DuckDbTargetConfigs
    from prefect_dbt.cli.configs.postgres import PostgresTargetConfigs
    from prefect_dbt.cli.configs.snowflake import SnowflakeTargetConfigs
