"""PostgresTargetConfigs: a PostgreSQL server (dbt-postgres)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from prefect_dbt.cli.configs.base import BaseTargetConfigs, schema_field


class PostgresTargetConfigs(BaseTargetConfigs):
    """A dbt-postgres target; the password is kept in the secret backend."""

    _block_type_name = "dbt Postgres Target"
    _block_type_slug = "dbt-cli-postgres-target-configs"
    _documentation_url = "https://docs.getdbt.com/docs/core/connect-data-platform/postgres-setup"
    _adapter = "postgres"

    host: str = Field(description="Server host name or address")
    port: int = Field(default=5432, ge=1, le=65535, description="Server port")
    user: str = Field(description="Login role")
    password: SecretStr = Field(description="Login password")
    dbname: str = Field(description="Database to connect to")
    schema_: str = schema_field()
    sslmode: str | None = Field(
        default=None, description="libpq sslmode: disable, require, verify-full, ...")
