"""SnowflakeTargetConfigs: a Snowflake account (dbt-snowflake, installed by the user)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, model_validator

from prefect_dbt.cli.configs.base import schema_field
from prefect_dbt.cli.configs.source_blocks import SourceBlockTargetConfigs, snowflake_fields


class SnowflakeTargetConfigs(SourceBlockTargetConfigs):
    """A dbt-snowflake target: a password or a private key (both kept secret), or an
    authenticator such as externalbrowser.

    `connector=` takes prefect-snowflake's SnowflakeConnector instead of the fields: its
    account, login, database, warehouse and schema become them.
    """

    _block_type_name = "dbt Snowflake Target"
    _block_type_slug = "dbt-cli-snowflake-target-configs"
    _documentation_url = "https://docs.getdbt.com/docs/core/connect-data-platform/snowflake-setup"
    _adapter = "snowflake"

    account: str = Field(description="Account identifier, e.g. xy12345.eu-west-1")
    user: str = Field(description="Login name")
    password: SecretStr | None = Field(default=None, description="Login password")
    private_key: SecretStr | None = Field(
        default=None, description="PEM private key for key-pair authentication")
    role: str | None = Field(default=None, description="Role to use")
    warehouse: str = Field(description="Virtual warehouse that runs the queries")
    database: str = Field(description="Database dbt builds in")
    schema_: str = schema_field()
    authenticator: str | None = Field(
        default=None, description="snowflake (default), externalbrowser, oauth, or an Okta URL")

    _source = "connector"

    @property
    def connector(self) -> Any:
        """The SnowflakeConnector this was built from, in this process (not saved)."""
        return self._source_block

    @classmethod
    def _fields_from(cls, block: Any, given: dict[str, Any]) -> dict[str, Any]:
        return snowflake_fields(block)

    @model_validator(mode="after")
    def _one_way_to_log_in(self) -> SnowflakeTargetConfigs:
        if self.password is None and self.private_key is None and self.authenticator is None:
            raise ValueError("give a password, a private_key or an authenticator")
        return self
