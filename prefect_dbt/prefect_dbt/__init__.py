"""core-blocks-dbt: dbt profiles from blocks, and dbt commands as in-process tasks.

The block types load on first use and dbt only when a command runs, so `import prefect_dbt`
stays cheap (dbt's own import takes over a second). Import paths follow Prefect's prefect-dbt:

    from prefect_dbt import DbtCliProfile, PostgresTargetConfigs
    from prefect_dbt.cli.commands import trigger_dbt_cli_command
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {  # public name -> module defining it
    "DbtCliProfile": "prefect_dbt.cli.credentials",
    "DbtCoreOperation": "prefect_dbt.cli.operation",
    "TargetConfigs": "prefect_dbt.cli.configs.base",
    "GlobalConfigs": "prefect_dbt.cli.configs.base",
    "DuckDbTargetConfigs": "prefect_dbt.cli.configs.duckdb",
    "PostgresTargetConfigs": "prefect_dbt.cli.configs.postgres",
    "SnowflakeTargetConfigs": "prefect_dbt.cli.configs.snowflake",
    "BigQueryTargetConfigs": "prefect_dbt.cli.configs.bigquery",
    "PrefectDbtRunner": "prefect_dbt.core.runner",
    "PrefectDbtSettings": "prefect_dbt.core.settings",
    "DbtHookContext": "prefect_dbt.core._hooks",
    "PrefectDbtOrchestrator": "prefect_dbt.core._orchestrator",
    "ExecutionMode": "prefect_dbt.core._orchestrator",
    "TestStrategy": "prefect_dbt.core._orchestrator",
    "CacheConfig": "prefect_dbt.core._orchestrator",
    "BuildPlan": "prefect_dbt.core._orchestrator",
    "DbtBuildFailed": "prefect_dbt.core._orchestrator",
    "ProcessPoolTaskRunner": "prefect_dbt.core._node_processes",
    "DbtResult": "prefect_dbt.results",
    "NodeResult": "prefect_dbt.results",
    "DbtError": "prefect_dbt.errors",
    "DbtConfigError": "prefect_dbt.errors",
    "DbtFailure": "prefect_dbt.errors",
    "DbtInvocationError": "prefect_dbt.errors",
    "DbtCloudUnsupportedError": "prefect_dbt.errors",
    "DbtCloudCredentials": "prefect_dbt.cloud.credentials",  # dbt Cloud: imports, refuses use
    "DbtCloudJob": "prefect_dbt.cloud.jobs",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers (tests/packaging)
    from prefect_dbt.cli.configs.base import GlobalConfigs, TargetConfigs
    from prefect_dbt.cli.configs.bigquery import BigQueryTargetConfigs
    from prefect_dbt.cli.configs.duckdb import DuckDbTargetConfigs
    from prefect_dbt.cli.configs.postgres import PostgresTargetConfigs
    from prefect_dbt.cli.configs.snowflake import SnowflakeTargetConfigs
    from prefect_dbt.cli.credentials import DbtCliProfile
    from prefect_dbt.cli.operation import DbtCoreOperation
    from prefect_dbt.cloud.credentials import DbtCloudCredentials
    from prefect_dbt.cloud.jobs import DbtCloudJob
    from prefect_dbt.core._hooks import DbtHookContext
    from prefect_dbt.core._node_processes import ProcessPoolTaskRunner
    from prefect_dbt.core._orchestrator import (
        BuildPlan,
        CacheConfig,
        DbtBuildFailed,
        ExecutionMode,
        PrefectDbtOrchestrator,
        TestStrategy,
    )
    from prefect_dbt.core.runner import PrefectDbtRunner
    from prefect_dbt.core.settings import PrefectDbtSettings
    from prefect_dbt.errors import (
        DbtCloudUnsupportedError,
        DbtConfigError,
        DbtError,
        DbtFailure,
        DbtInvocationError,
    )
    from prefect_dbt.results import DbtResult, NodeResult
