"""TargetConfigs.from_profiles_yml: one target of a real profiles.yml, secrets kept secret."""

from __future__ import annotations

import pytest

from prefect_dbt import DbtConfigError, TargetConfigs

PROFILES = """\
shop:
  target: prod
  outputs:
    dev: {type: duckdb, path: dev.duckdb, threads: 2}
    prod: {type: postgres, host: db, user: etl, password: pw-canary, schema: marts, port: 5432}
other:
  target: dev
  outputs:
    dev: {type: bigquery, project: p, dataset: ds}
config: {partial_parse: true}
"""


@pytest.fixture
def profiles_dir(tmp_path):
    (tmp_path / "profiles.yml").write_text(PROFILES)
    return tmp_path


def test_the_first_profile_and_its_target_by_default(profiles_dir):
    target = TargetConfigs.from_profiles_yml(profiles_dir=profiles_dir)

    assert (target.type, target.schema_, target.threads) == ("postgres", "marts", 4)
    assert target.extras == {"host": "db", "user": "etl", "port": 5432}
    assert target.secret_extras.get_secret_value() == {"password": "pw-canary"}
    assert "pw-canary" not in repr(target)
    assert target.get_configs()["password"] == "pw-canary"


def test_path_or_dataset_stands_for_the_schema(profiles_dir):
    dev = TargetConfigs.from_profiles_yml("shop", "dev", profiles_dir)
    other = TargetConfigs.from_profiles_yml("other", profiles_dir=str(profiles_dir))

    assert (dev.schema_, dev.threads, dev.extras) == ("dev.duckdb", 2, None)
    assert (other.schema_, other.extras) == ("ds", {"project": "p"})


@pytest.mark.parametrize(("profile", "target", "message"), [
    ("nope", None, "Profile nope not found in profiles.yml. Its profiles: shop, other"),
    ("shop", "qa", "Target qa not found in profile shop. Its targets: dev, prod"),
])
def test_an_unknown_profile_or_target_names_the_known_ones(profiles_dir, profile, target,
                                                            message):
    with pytest.raises(DbtConfigError, match=message):
        TargetConfigs.from_profiles_yml(profile, target, profiles_dir)


def test_a_target_without_a_schema_is_refused(tmp_path):
    (tmp_path / "profiles.yml").write_text("p:\n  target: t\n  outputs:\n    t: {type: x}\n")

    with pytest.raises(DbtConfigError, match="No schema found. Expected one of"):
        TargetConfigs.from_profiles_yml(profiles_dir=tmp_path)
