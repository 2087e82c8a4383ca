"""PostgresTargetConfigs: a PostgreSQL server (dbt-postgres)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr

from prefect_dbt.cli.configs.base import schema_field
from prefect_dbt.cli.configs.source_blocks import SourceBlockTargetConfigs, postgres_fields


class PostgresTargetConfigs(SourceBlockTargetConfigs):
    """A dbt-postgres target; the password is kept in the secret backend.

    `credentials=` takes prefect-sqlalchemy's DatabaseCredentials or SqlAlchemyConnector
    instead of the connection fields: host, port, user, password and database become them.
    """

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

    _source = "credentials"

    @property
    def credentials(self) -> Any:
        """The DatabaseCredentials or SqlAlchemyConnector this was built from, in this process
        (not saved)."""
        return self._source_block

    @classmethod
    def _fields_from(cls, block: Any, given: dict[str, Any]) -> dict[str, Any]:
        return postgres_fields(block)
