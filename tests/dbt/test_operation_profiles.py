"""DbtCoreOperation writes its dbt_cli_profile once, before the first command, and every
command after it uses that file: in profiles_dir (kept), or in a temporary folder removed
after the last command. Real dbt-duckdb."""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

import pytest

from prefect_dbt import DbtConfigError
from prefect_dbt.cli import DbtCoreOperation
from tests.dbt.project import node_names

# `dbt debug --config-dir` ends with the command opening the profiles folder it was given.
_CONFIG_DIR = re.compile(r"^\S+ (/\S*core-blocks-dbt\.\S+)\s*$", re.M)


def profile_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("core-blocks-dbt.*"))


def test_every_command_uses_the_profile_written_to_profiles_dir(shop_project, duckdb_profile,
                                                               tmp_path):
    folder = tmp_path / "dot-dbt"
    operation = DbtCoreOperation(commands=["dbt seed", "dbt run --select orders",
                                           "dbt test --select orders"],
                                 project_dir=shop_project, profiles_dir=folder,
                                 dbt_cli_profile=duckdb_profile)

    seeded, ran, tested = operation.run()

    assert node_names(seeded) == {("seed", "raw_orders")}
    assert node_names(ran) == {("model", "orders")}
    assert all(n.status == "pass" for n in tested.nodes) and tested.nodes
    written = folder / "profiles.yml"
    assert written.stat().st_mode & 0o777 == 0o600 and "type: duckdb" in written.read_text()
    assert [p.name for p in folder.iterdir()] == ["profiles.yml"]

    [again] = DbtCoreOperation(commands=["dbt seed"], project_dir=shop_project,
                               profiles_dir=folder, dbt_cli_profile=duckdb_profile).run()
    assert again.success  # the file it wrote the first time is its own: used, not refused


def test_a_profiles_yml_of_the_users_is_still_refused_and_left_as_it_was(shop_project,
                                                                         duckdb_profile,
                                                                         tmp_path):
    folder = tmp_path / "dot-dbt"
    folder.mkdir()
    (folder / "profiles.yml").write_text("# the user's own\n")
    operation = DbtCoreOperation(commands=["dbt seed", "dbt run"], project_dir=shop_project,
                                 profiles_dir=folder, dbt_cli_profile=duckdb_profile)

    with pytest.raises(DbtConfigError, match="already exists.*overwrite_profiles=True"):
        operation.run()
    assert (folder / "profiles.yml").read_text() == "# the user's own\n"

    operation.overwrite_profiles = True
    seeded, ran = operation.run()
    assert seeded.success and ran.success
    assert "type: duckdb" in (folder / "profiles.yml").read_text()


def test_one_temporary_folder_serves_every_command_and_is_removed(shop_project,
                                                                 duckdb_profile, caplog):
    before = profile_folders()
    operation = DbtCoreOperation(commands=["dbt debug --config-dir"] * 2,
                                 project_dir=shop_project, dbt_cli_profile=duckdb_profile)

    with caplog.at_level(logging.INFO, logger="core_blocks.runs"):
        operation.run()

    used = [Path(m) for r in caplog.records for m in _CONFIG_DIR.findall(r.getMessage())]
    assert len(used) == 2 and used[0] == used[1]
    assert not used[0].exists() and profile_folders() == before
