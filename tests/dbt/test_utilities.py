"""prefect_dbt.utilities: Prefect's helpers under Prefect's path."""

from __future__ import annotations

import os

import pytest

from prefect_dbt.utilities import (
    MAX_ASSET_KEY_LENGTH,
    find_profiles_dir,
    format_asset_name,
    format_resource_id,
    kwargs_to_args,
    replace_with_env_var_call,
)


def test_profiles_dir_is_the_current_folder_when_it_has_profiles_yml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert find_profiles_dir() == tmp_path / "home" / ".dbt"

    (tmp_path / "profiles.yml").write_text("shop: {}\n")
    assert find_profiles_dir() == tmp_path


def test_a_value_goes_to_the_environment_and_the_profile_gets_env_var(monkeypatch):
    monkeypatch.delenv("MY_DB_V1_HOST", raising=False)
    template = replace_with_env_var_call("my-db@v1:host", 5432)

    assert template == "{{ env_var('MY_DB_V1_HOST') }}"
    assert os.environ.pop("MY_DB_V1_HOST") == "5432"


def test_relation_names_become_display_names_and_asset_keys():
    assert format_asset_name('"DB"."SCHEMA"."ORDERS"') == "DB.SCHEMA.ORDERS"
    assert format_asset_name("`proj`.`ds`.`t`") == "proj.ds.t"
    assert format_resource_id("duckdb", '"main"."my schema"."t#1"') == "duckdb://main/myschema/t1"
    assert len(format_resource_id("postgres", "a" * 600)) == MAX_ASSET_KEY_LENGTH


@pytest.mark.parametrize(("kwargs", "args", "expected"), [
    ({"select": ["a", "b"], "full_refresh": True, "target": None}, ["build"],
     ["build", "--select", "a", "b", "--full-refresh"]),
    ({"fail_fast": False, "threads": 4}, None, ["--no-fail-fast", "--threads", "4"]),
    ({"select": ["kw"], "vars": "{x: 1}"}, ["run", "--select", "given"],
     ["run", "--select", "given", "--vars", "{x: 1}"]),
])
def test_kwargs_become_arguments_and_given_arguments_win(kwargs, args, expected):
    assert kwargs_to_args(kwargs, args) == expected
    assert all(value is None for value in kwargs.values())  # used options are removed
