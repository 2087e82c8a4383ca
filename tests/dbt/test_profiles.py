"""Generated profiles: each typed target produces exactly the keys its adapter reads, secrets
revealed only there; blocks save and load with their secrets in the backend."""

from __future__ import annotations

import pytest

from core_blocks import BlockValidationError
from prefect_dbt import (
    BigQueryTargetConfigs,
    DbtCliProfile,
    DbtConfigError,
    DuckDbTargetConfigs,
    GlobalConfigs,
    PostgresTargetConfigs,
    SnowflakeTargetConfigs,
    TargetConfigs,
)


def test_duckdb_and_postgres_targets_load_in_their_adapters(tmp_path):
    """dbt's own credential classes accept exactly what the blocks produce."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.postgres.connections import PostgresCredentials

    duck = DuckDbTargetConfigs(path=str(tmp_path / "x.duckdb"), extensions=["json"],
                               settings={"threads": 1}).get_configs()
    pg = PostgresTargetConfigs(host="db", user="etl", password="pw-1234", dbname="shop",
                               schema="analytics", sslmode="require").get_configs()

    assert duck == {"type": "duckdb", "threads": 4, "path": str(tmp_path / "x.duckdb"),
                    "schema": "main", "extensions": ["json"], "settings": {"threads": 1}}
    assert pg == {"type": "postgres", "threads": 4, "host": "db", "port": 5432, "user": "etl",
                  "password": "pw-1234", "dbname": "shop", "schema": "analytics",
                  "sslmode": "require"}
    for cls, configs in ((DuckDBCredentials, duck), (PostgresCredentials, pg)):
        fields = {k: v for k, v in configs.items() if k not in ("type", "threads")}
        if cls is PostgresCredentials:
            fields["database"] = fields.pop("dbname")  # dbt's profile loader renames it so
        creds = cls.from_dict(fields)
        assert creds.schema == configs["schema"]


def test_snowflake_and_bigquery_targets_by_content():
    snow = SnowflakeTargetConfigs(account="xy12345.eu-west-1", user="etl", private_key="PEM",
                                  role="transformer", warehouse="wh", database="raw",
                                  schema="staging").get_configs()
    bq = BigQueryTargetConfigs(project="acme", dataset="marts", location="EU",
                               keyfile_json={"type": "service_account",
                                             "private_key": "KEY"}).get_configs()

    assert snow == {"type": "snowflake", "threads": 4, "account": "xy12345.eu-west-1",
                    "user": "etl", "private_key": "PEM", "role": "transformer",
                    "warehouse": "wh", "database": "raw", "schema": "staging"}
    assert bq == {"type": "bigquery", "threads": 4, "project": "acme", "schema": "marts",
                  "method": "service-account-json", "location": "EU",
                  "keyfile_json": {"type": "service_account", "private_key": "KEY"}}


@pytest.mark.parametrize("make, field", [
    (lambda: SnowflakeTargetConfigs(account="a", user="u", warehouse="w", database="d",
                                    schema="s"), "password, a private_key or an authenticator"),
    (lambda: BigQueryTargetConfigs(project="p", dataset="d"), "needs keyfile_json"),
    (lambda: PostgresTargetConfigs(host="h", user="u", dbname="d", schema="s"), "password"),
])
def test_a_target_missing_its_login_is_refused_naming_it(make, field):
    with pytest.raises(BlockValidationError, match=field):
        make()


def test_extras_add_keys_and_replace_fields_only_when_allowed():
    target = TargetConfigs(type="trino", schema="s", extras={"host": "h", "schema": "other"})
    with pytest.raises(DbtConfigError, match="The keyword, schema, has already been provided "
                       "in TargetConfigs: extras key 'schema'"):
        target.get_configs()

    target.allow_field_overrides = True
    assert target.get_configs() == {"type": "trino", "schema": "other", "threads": 4,
                                    "host": "h"}


def test_a_profile_with_global_configs_and_its_secrets_round_trip_the_store(block_home, canary):
    profile = DbtCliProfile(
        name="shop", target="prod", global_configs=GlobalConfigs(use_colors=False),
        target_configs=PostgresTargetConfigs(host="db", user="etl", password=canary,
                                             dbname="shop", schema="marts",
                                             secret_extras={"sslpassword": canary + "-2"}))
    profile.save("shop-prod")

    loaded = DbtCliProfile.load("shop-prod")

    assert loaded.get_profile() == profile.get_profile()
    assert loaded.get_profile()["config"] == {"use_colors": False}
    assert loaded.get_profile()["shop"]["outputs"]["prod"]["password"] == canary
    assert canary not in repr(loaded)
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()


def test_paths_in_extras_become_strings_and_none_values_are_left_out(tmp_path):
    """As Prefect's get_configs(): profiles.yml's safe YAML writer refuses a Path."""
    import yaml

    duck = DuckDbTargetConfigs(path=str(tmp_path / "x.duckdb"), extras={
        "external_root": tmp_path / "out", "unset": None,
        "plugins": [{"module": "m", "config": {"root": tmp_path}}]}).get_configs()
    generic = TargetConfigs(type="trino", schema="s", extras={"cert": tmp_path / "ca.pem",
                                                              "port": None}).get_configs()
    flags = GlobalConfigs(use_colors=False, extras={"log_path": tmp_path / "logs",
                                                    "printer_width": None}).get_configs()

    assert duck["external_root"] == str(tmp_path / "out") and "unset" not in duck
    assert duck["plugins"] == [{"module": "m", "config": {"root": str(tmp_path)}}]
    assert generic == {"type": "trino", "schema": "s", "threads": 4,
                       "cert": str(tmp_path / "ca.pem")}
    assert flags == {"use_colors": False, "log_path": str(tmp_path / "logs")}
    profile = DbtCliProfile(name="p", target="t", global_configs=GlobalConfigs(
        extras={"log_path": tmp_path}), target_configs=DuckDbTargetConfigs(
        path="x.duckdb", extras={"external_root": tmp_path}))
    yaml.safe_dump(profile.get_profile())  # no RepresenterError


def test_bigquery_takes_prefects_schema_as_its_dataset_and_writes_it_so(block_home):
    key = {"type": "service_account", "private_key": "KEY"}
    target = BigQueryTargetConfigs(project="acme", schema="marts", keyfile_json=key)
    target.save("bq")

    assert target.dataset == "marts"
    assert BigQueryTargetConfigs.load("bq").get_configs()["schema"] == "marts"
    assert "dataset" not in target.get_configs()  # dbt-bigquery reads schema as the dataset
    assert BigQueryTargetConfigs(project="acme", schema="m", dataset="m",
                                 keyfile_json=key).dataset == "m"
    with pytest.raises(BlockValidationError, match="schema is another name for dataset"):
        BigQueryTargetConfigs(project="acme", schema="a", dataset="b", keyfile_json=key)
