"""The dbt plugin: its block types and `blocks dbt` command, found without importing dbt
(over a second of start-up)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core_blocks.registry import get_registry

TYPES = ["dbt-cli-bigquery-target-configs", "dbt-cli-duckdb-target-configs",
         "dbt-cli-global-configs", "dbt-cli-postgres-target-configs", "dbt-cli-profile",
         "dbt-cli-snowflake-target-configs", "dbt-cli-target-configs", "dbt-core-operation"]


def test_the_plugin_adds_the_dbt_block_types():
    plugin = get_registry().plugins["dbt"]

    assert plugin.error is None and plugin.source == "core-blocks-dbt 0.1.0"
    assert sorted(plugin.block_types) == TYPES


@pytest.mark.parametrize("argv", [["--help"], ["types"], ["ls"], ["dbt", "--help"],
                                  ["schema", "dbt-cli-profile"]])
def test_cli_commands_do_not_import_dbt(argv, block_home):
    probe = ("import sys\nfrom core_blocks.cli.app import main\n"
             f"code = main({argv!r})\n"
             "print('dbt-imported' if 'dbt' in sys.modules else 'clean', code, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60)

    assert out.stderr.strip().splitlines()[-1] == "clean 0", out.stderr
    if argv == ["--help"]:
        assert "dbt profiles as blocks: import-profiles." in out.stdout
    if argv == ["dbt", "--help"]:
        assert "import-profiles" in out.stdout


def test_prefects_import_paths_resolve():
    """The names the README's "Coming from Prefect's prefect-dbt" table says are supported."""
    import importlib

    paths = {
        "prefect_dbt": ["DbtCliProfile", "DbtCoreOperation", "TargetConfigs", "GlobalConfigs",
                        "PostgresTargetConfigs", "SnowflakeTargetConfigs",
                        "BigQueryTargetConfigs"],
        "prefect_dbt.cli": ["DbtCliProfile", "DbtCoreOperation", "TargetConfigs",
                            "GlobalConfigs"],
        "prefect_dbt.cli.commands": ["DbtCoreOperation", "trigger_dbt_cli_command",
                                     "run_dbt_build", "run_dbt_model", "run_dbt_test",
                                     "run_dbt_snapshot", "run_dbt_seed",
                                     "run_dbt_source_freshness"],
        "prefect_dbt.cli.credentials": ["DbtCliProfile"],
        "prefect_dbt.cli.configs": ["TargetConfigs", "GlobalConfigs", "PostgresTargetConfigs",
                                    "SnowflakeTargetConfigs", "BigQueryTargetConfigs"],
        "prefect_dbt.cli.configs.postgres": ["PostgresTargetConfigs"],
        "prefect_dbt.cli.configs.snowflake": ["SnowflakeTargetConfigs"],
        "prefect_dbt.cli.configs.bigquery": ["BigQueryTargetConfigs"],
    }
    missing = [f"{module}.{name}" for module, names in paths.items() for name in names
               if not callable(getattr(importlib.import_module(module), name, None))]
    assert missing == []
