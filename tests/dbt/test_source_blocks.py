"""Target configs built from Prefect's connection blocks (read by attribute; shaped here as
prefect-snowflake, prefect-sqlalchemy and prefect-gcp build them): their values become the
config's own fields, secrets in the secret backend once saved."""

from __future__ import annotations

import json
from types import SimpleNamespace

from pydantic import SecretBytes, SecretStr

from prefect_dbt import (
    BigQueryTargetConfigs,
    DbtCliProfile,
    PostgresTargetConfigs,
    SnowflakeTargetConfigs,
)


def snowflake_connector(canary: str, **credentials) -> SimpleNamespace:
    creds = SimpleNamespace(account="xy.eu", user="etl", password=SecretStr(canary),
                            private_key=None, private_key_path=None,
                            private_key_passphrase=None, authenticator="snowflake",
                            role=None, **credentials)
    return SimpleNamespace(credentials=creds, database="DB", warehouse="WH", schema_="RAW")


def test_a_snowflake_connector_fills_the_fields_and_is_saved_as_them(canary, block_home):
    connector = snowflake_connector(canary)
    target = SnowflakeTargetConfigs(connector=connector, extras={"query_tag": "nightly"})

    assert target.connector is connector
    assert target.get_configs() == {
        "type": "snowflake", "threads": 4, "account": "xy.eu", "user": "etl",
        "password": canary, "warehouse": "WH", "database": "DB", "schema": "RAW",
        "authenticator": "snowflake", "query_tag": "nightly"}
    DbtCliProfile(name="shop", target="prod", target_configs=target).save("snow")

    loaded = DbtCliProfile.load("snow")
    assert loaded.get_profile()["shop"]["outputs"]["prod"]["password"] == canary
    assert loaded.target_configs.connector is None  # the connector itself is not stored
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()


def test_given_fields_win_over_the_connector_and_key_files_stay_extras(canary):
    connector = snowflake_connector(canary, )
    connector.credentials.password = None
    connector.credentials.private_key = SecretBytes(b"-----BEGIN KEY-----")
    connector.credentials.private_key_path = "keys/etl.p8"
    connector.credentials.private_key_passphrase = SecretStr(canary)
    target = SnowflakeTargetConfigs(connector=connector, schema="OVERRIDE")

    configs = target.get_configs()
    assert configs["schema"] == "OVERRIDE"
    assert configs["private_key"] == "-----BEGIN KEY-----"
    assert configs["private_key_path"] == "keys/etl.p8"
    assert configs["private_key_passphrase"] == canary
    assert canary not in repr(target)


def test_postgres_from_database_credentials_or_a_connector_url(canary):
    components = SimpleNamespace(host="db", port="6543", username="etl",
                                 password=SecretStr(canary), database="shop", url=None,
                                 query={"application_name": "x"})
    from_components = PostgresTargetConfigs(credentials=components, schema="marts")
    connector = SimpleNamespace(connection_info=f"postgresql+psycopg2://etl:{canary}@db:5433/shop")
    from_url = PostgresTargetConfigs(credentials=connector, schema="marts")

    assert from_components.credentials is components
    assert from_components.get_configs() == {
        "type": "postgres", "threads": 4, "host": "db", "port": 6543, "user": "etl",
        "password": canary, "dbname": "shop", "schema": "marts"}
    assert from_url.get_configs()["port"] == 5433
    assert from_url.get_configs()["password"] == canary


def test_bigquery_from_gcp_credentials(canary, tmp_path):
    info = {"project_id": "key-project", "private_key": canary}
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(info))

    with_info = BigQueryTargetConfigs(
        credentials=SimpleNamespace(service_account_info=info, service_account_file=None,
                                    project=None), schema="ds")
    with_file = BigQueryTargetConfigs(
        credentials=SimpleNamespace(service_account_info=None, service_account_file=key_file,
                                    project="creds-project"), schema="ds")
    with_login = BigQueryTargetConfigs(
        credentials=SimpleNamespace(service_account_info=None, service_account_file=None,
                                    project="p"), project="mine", schema="ds")

    assert with_info.get_configs() == {"type": "bigquery", "threads": 4,
                                       "project": "key-project", "schema": "ds",
                                       "method": "service-account-json", "keyfile_json": info}
    assert canary not in repr(with_info)
    assert with_file.get_configs()["keyfile"] == str(key_file)
    assert with_file.get_configs()["project"] == "creds-project"
    assert (with_login.get_configs()["method"], with_login.project) == ("oauth", "mine")
