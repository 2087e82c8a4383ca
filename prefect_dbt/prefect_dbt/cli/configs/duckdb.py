"""DuckDbTargetConfigs: an embedded DuckDB database file (dbt-duckdb)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from prefect_dbt.cli.configs.base import BaseTargetConfigs, schema_field


class DuckDbTargetConfigs(BaseTargetConfigs):
    """A dbt-duckdb target: the database file, extensions to load and DuckDB settings."""

    _block_type_name = "dbt DuckDB Target"
    _block_type_slug = "dbt-cli-duckdb-target-configs"
    _documentation_url = "https://docs.getdbt.com/docs/core/connect-data-platform/duckdb-setup"
    _adapter = "duckdb"

    path: str = Field(description="Database file (created if missing), or :memory:")
    schema_: str = schema_field("main")
    extensions: list[str] | None = Field(
        default=None, description="DuckDB extensions to install and load, e.g. httpfs")
    settings: dict[str, Any] | None = Field(
        default=None, description="DuckDB settings, e.g. {'memory_limit': '1GB'}")
