"""profiles.yml -> blocks: a realistic multi-target file round-trips through
DbtCliProfile.from_profiles_yml and `blocks dbt import-profiles`; env_var() references are
kept or resolved as asked; password-like keys become secrets."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from prefect_dbt import (
    BigQueryTargetConfigs,
    DbtCliProfile,
    DbtConfigError,
    PostgresTargetConfigs,
    SnowflakeTargetConfigs,
    TargetConfigs,
)
from tests.helpers import BLOCKS

PROFILES = """\
config:
  use_colors: false
  send_anonymous_usage_stats: false

jaffle_shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: /data/jaffle.duckdb
      schema: main
      threads: 2
    prod:
      type: postgres
      host: db.internal
      port: 5433
      user: etl
      pass: "{{ env_var('JAFFLE_PG_PASSWORD') }}"
      dbname: analytics
      schema: marts
      threads: 8
      keepalives_idle: 30
      sslmode: require

warehouse:
  target: snow
  outputs:
    snow:
      type: snowflake
      account: xy12345.eu-west-1
      user: loader
      password: sf-secret-9876
      role: transformer
      warehouse: transforming
      database: raw
      schema: staging
      threads: 4
    bq:
      type: bigquery
      method: service-account-json
      project: acme-data
      dataset: marts
      location: EU
      threads: 4
      keyfile_json:
        type: service_account
        private_key: bq-key-5555
    lake:
      type: trino
      host: trino.internal
      port: 443
      schema: lake
      http_scheme: https
      api_token: trino-token-4444
"""


@pytest.fixture
def profiles_yml(tmp_path):
    path = tmp_path / "profiles.yml"
    path.write_text(PROFILES)
    return path


def original(profile: str, target: str) -> dict:
    output = yaml.safe_load(PROFILES)[profile]["outputs"][target]
    if output["type"] == "bigquery":  # written as schema, which dbt-bigquery reads as dataset
        output = {("schema" if key == "dataset" else key): value for key, value in output.items()}
    return output


@pytest.mark.parametrize("profile, target, cls", [
    ("jaffle_shop", "dev", None),
    ("warehouse", "snow", SnowflakeTargetConfigs),
    ("warehouse", "bq", BigQueryTargetConfigs),
    ("warehouse", "lake", TargetConfigs),
])
def test_each_target_round_trips_to_the_same_profiles_yml(profiles_yml, profile, target, cls):
    imported = DbtCliProfile.from_profiles_yml(profiles_yml, profile, target)

    generated = imported.get_profile()
    assert generated[profile] == {"target": target,
                                  "outputs": {target: original(profile, target)}}
    assert generated["config"] == {"use_colors": False, "send_anonymous_usage_stats": False}
    if cls is not None:
        assert type(imported.target_configs) is cls


def test_password_like_keys_become_secret_fields(profiles_yml):
    snow = DbtCliProfile.from_profiles_yml(profiles_yml, "warehouse", "snow").target_configs
    bq = DbtCliProfile.from_profiles_yml(profiles_yml, "warehouse", "bq").target_configs
    lake = DbtCliProfile.from_profiles_yml(profiles_yml, "warehouse", "lake").target_configs

    assert snow.password.get_secret_value() == "sf-secret-9876"
    assert bq.keyfile_json.get_secret_value()["private_key"] == "bq-key-5555"
    assert lake.secret_extras.get_secret_value() == {"api_token": "trino-token-4444"}
    assert lake.extras == {"host": "trino.internal", "port": 443, "http_scheme": "https"}
    for text in ("sf-secret-9876", "bq-key-5555", "trino-token-4444"):
        assert text not in repr(snow) + repr(bq) + repr(lake)


def test_env_var_references_are_kept_for_dbt_or_resolved_now(profiles_yml, monkeypatch):
    kept = DbtCliProfile.from_profiles_yml(profiles_yml, "jaffle_shop", "prod")
    assert isinstance(kept.target_configs, PostgresTargetConfigs)
    # dbt renders the reference itself at run time; `pass` is dbt-postgres's alias of password.
    assert kept.get_profile()["jaffle_shop"]["outputs"]["prod"]["password"] == (
        "{{ env_var('JAFFLE_PG_PASSWORD') }}")

    monkeypatch.setenv("JAFFLE_PG_PASSWORD", "pg-secret-7777")
    resolved = DbtCliProfile.from_profiles_yml(profiles_yml, "jaffle_shop", "prod",
                                               resolve_env_vars=True)
    assert resolved.target_configs.password.get_secret_value() == "pg-secret-7777"
    assert resolved.get_profile()["jaffle_shop"]["outputs"]["prod"]["port"] == 5433

    monkeypatch.delenv("JAFFLE_PG_PASSWORD")
    with pytest.raises(DbtConfigError, match="JAFFLE_PG_PASSWORD, which is not set"):
        DbtCliProfile.from_profiles_yml(profiles_yml, "jaffle_shop", "prod",
                                        resolve_env_vars=True)


def test_the_default_target_is_the_profiles_own(profiles_yml):
    assert DbtCliProfile.from_profiles_yml(profiles_yml, "warehouse").target == "snow"


@pytest.mark.parametrize("profile, target, message", [
    ("nope", None, "has no profile 'nope' with outputs. Its profiles: jaffle_shop, warehouse"),
    ("warehouse", "qa", "has no target 'qa'. Its targets: bq, lake, snow"),
])
def test_unknown_profiles_and_targets_are_named_with_the_choices(profiles_yml, profile,
                                                                 target, message):
    with pytest.raises(DbtConfigError, match=message):
        DbtCliProfile.from_profiles_yml(profiles_yml, profile, target)


def run_blocks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})


def test_blocks_dbt_import_profiles_saves_every_target(profiles_yml, block_home):
    done = run_blocks("dbt", "import-profiles", str(profiles_yml))

    assert done.returncode == 0, done.stderr
    assert sorted(DbtCliProfile.list()) == ["jaffle-shop-dev", "jaffle-shop-prod",
                                            "warehouse-bq", "warehouse-lake", "warehouse-snow"]
    snow = DbtCliProfile.load("warehouse-snow")
    assert snow.get_profile()["warehouse"]["outputs"]["snow"] == original("warehouse", "snow")
    stored = (block_home / "blocks.db").read_bytes()
    assert b"sf-secret-9876" not in stored and b"trino-token-4444" not in stored
    assert "sf-secret-9876" not in done.stdout + done.stderr


def test_blocks_dbt_import_profiles_one_target_by_name(profiles_yml, block_home, monkeypatch):
    monkeypatch.setenv("JAFFLE_PG_PASSWORD", "pg-secret-7777")
    done = run_blocks("dbt", "import-profiles", str(profiles_yml), "--profile", "jaffle_shop",
                      "--target", "prod", "--name", "prod-db", "--resolve-env-vars")

    assert done.returncode == 0, done.stderr
    assert "Saved dbt-cli-profile/prod-db" in done.stdout
    loaded = DbtCliProfile.load("prod-db")
    assert loaded.target_configs.password.get_secret_value() == "pg-secret-7777"

    several = run_blocks("dbt", "import-profiles", str(profiles_yml), "--name", "x")
    assert several.returncode == 1
    assert "--name names one block, but 5 targets were chosen" in several.stderr
