"""Prefect's connection blocks taken by the target configs: `SnowflakeTargetConfigs(connector=
SnowflakeConnector)`, `PostgresTargetConfigs(credentials=DatabaseCredentials or
SqlAlchemyConnector)`, `BigQueryTargetConfigs(credentials=GcpCredentials)`.

Read by attribute (this package depends on none of prefect-snowflake, prefect-sqlalchemy or
prefect-gcp) into the config's own fields when it is built; fields given directly win. The
block passed stays on the instance (`.connector`/`.credentials`) but is not saved: the fields
are, secrets in the secret backend.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from pydantic import PrivateAttr, model_validator

from prefect_dbt.cli.configs.base import BaseTargetConfigs
from prefect_dbt.errors import DbtConfigError


class SourceBlockTargetConfigs(BaseTargetConfigs):
    """A target config that may be built from one of Prefect's blocks, passed by the keyword
    `_source` (the block stays in `_source_block`, unsaved)."""

    _source: ClassVar[str]
    _source_block: Any = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _from_source_block(cls, data: Any, handler: Any) -> Any:
        block = None
        if isinstance(data, dict) and data.get(cls._source) is not None:
            data = dict(data)
            block = data.pop(cls._source)
            found = cls._fields_from(block, data)
            for key in ("extras", "secret_extras"):  # merged: both may bring some
                if key in found and data.get(key):
                    found[key] = {**found[key], **data.pop(key)}
            data = {**found, **data}
        model = handler(data)
        if block is not None:
            model._source_block = block
        return model

    @classmethod
    def _fields_from(cls, block: Any, given: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


def _secret(value: Any) -> Any:
    reveal = getattr(value, "get_secret_value", None)
    value = reveal() if reveal else value
    return value.decode() if isinstance(value, bytes) else value


def _present(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def snowflake_fields(connector: Any) -> dict[str, Any]:
    """A SnowflakeConnector's account, login and location as SnowflakeTargetConfigs fields."""
    creds = _attribute(connector, "credentials", "SnowflakeConnector")
    fields = _present(
        account=getattr(creds, "account", None), user=getattr(creds, "user", None),
        password=_secret(getattr(creds, "password", None)),
        private_key=_secret(getattr(creds, "private_key", None)),
        authenticator=getattr(creds, "authenticator", None),
        role=getattr(creds, "role", None), database=getattr(connector, "database", None),
        warehouse=getattr(connector, "warehouse", None),
        schema=getattr(connector, "schema_", None) or getattr(connector, "schema", None))
    extras = _present(private_key_path=getattr(creds, "private_key_path", None))
    secret_extras = _present(
        private_key_passphrase=_secret(getattr(creds, "private_key_passphrase", None)))
    if extras:
        fields["extras"] = extras
    if secret_extras:
        fields["secret_extras"] = secret_extras
    return fields


def postgres_fields(credentials: Any) -> dict[str, Any]:
    """A DatabaseCredentials' or SqlAlchemyConnector's connection as PostgresTargetConfigs
    fields (driver, query and the connector's own options are not dbt's, so left out)."""
    info = getattr(credentials, "connection_info", None) or credentials
    url = getattr(info, "url", None) if not isinstance(info, str) else info
    if url is not None and getattr(info, "host", None) is None:
        parts = urlsplit(_secret(str(url)))
        return _present(host=parts.hostname, port=parts.port,
                        user=unquote(parts.username) if parts.username else None,
                        password=unquote(parts.password) if parts.password else None,
                        dbname=parts.path.lstrip("/") or None)
    port = getattr(info, "port", None)
    return _present(host=getattr(info, "host", None), port=int(port) if port else None,
                    user=getattr(info, "username", None),
                    password=_secret(getattr(info, "password", None)),
                    dbname=getattr(info, "database", None))


def bigquery_fields(credentials: Any, given: dict[str, Any]) -> dict[str, Any]:
    """A GcpCredentials' key as BigQueryTargetConfigs fields: its service account info
    (method service-account-json), its key file (service-account), or else the machine's
    gcloud login, which dbt-bigquery uses itself (oauth). The project is the config's, else
    the credentials', else the key's project_id."""
    info = _secret(getattr(credentials, "service_account_info", None))
    key_file = getattr(credentials, "service_account_file", None)
    fields: dict[str, Any]
    if info:
        fields = {"method": "service-account-json", "keyfile_json": dict(info)}
        key_project = info.get("project_id")
    elif key_file:
        path = Path(key_file).expanduser()
        fields = {"method": "service-account", "extras": {"keyfile": str(path)}}
        key_project = _project_of(path)
    else:
        fields, key_project = {"method": "oauth"}, None
    project = getattr(credentials, "project", None) or key_project
    if project and "project" not in given:
        fields["project"] = project
    return fields


def _project_of(path: Path) -> str | None:
    try:
        return json.loads(path.read_text()).get("project_id")
    except (OSError, ValueError, AttributeError):
        return None  # dbt reports an unreadable key file when it connects


def _attribute(block: Any, name: str, kind: str) -> Any:
    value = getattr(block, name, None)
    if value is None:
        raise DbtConfigError(f"The {kind} given has no {name}: pass a {kind} with its "
                             f"{name} set, or the fields directly.")
    return value
