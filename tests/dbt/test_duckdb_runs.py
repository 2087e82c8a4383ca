"""dbt commands in process against real dbt-duckdb: per-node results, the run's log and
artifact, failures naming their nodes, and no profiles.yml left behind."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

from core_blocks import flow
from core_blocks.runtime import history
from core_blocks.runtime.artifacts import list_artifacts
from core_blocks.store import get_store
from prefect_dbt import DbtFailure, DbtInvocationError
from prefect_dbt.cli import DbtCoreOperation
from prefect_dbt.cli.commands import (
    run_dbt_model,
    run_dbt_run,
    run_dbt_seed,
    run_dbt_source_freshness,
    trigger_dbt_cli_command,
)
from tests.dbt.project import GOOD_NODES, node_names


def profile_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("core-blocks-dbt.*"))


def test_build_succeeds_with_a_result_per_node(shop_project, duckdb_profile):
    result = trigger_dbt_cli_command("dbt build", project_dir=shop_project,
                                     dbt_cli_profile=duckdb_profile)

    assert result.success and result.command.startswith("dbt build")
    assert node_names(result) == GOOD_NODES
    by_id = {n.unique_id: n for n in result.nodes}
    seed = by_id["seed.shop.raw_orders"]
    assert (seed.status, seed.rows_affected) == ("success", 3)
    assert all(n.status in ("success", "pass") for n in result.nodes)
    assert all(n.failures == 0 for n in result.nodes if n.resource_type == "test")
    assert all(n.execution_time >= 0 for n in result.nodes)
    import duckdb

    with duckdb.connect(duckdb_profile.target_configs.path, read_only=True) as db:
        assert db.sql("select customer, total from customer_totals order by 1").fetchall() == [
            ("ann", 15), ("bob", 20)]


def test_the_run_gets_dbts_log_lines_and_a_summary_table(shop_project, duckdb_profile, caplog):
    @flow
    def transform():
        return trigger_dbt_cli_command("build --select +orders", project_dir=shop_project,
                                       dbt_cli_profile=duckdb_profile)

    with caplog.at_level(logging.INFO, logger="core_blocks.runs"):
        result = transform()

    lines = [r.getMessage() for r in caplog.records if getattr(r, "run_name", "").startswith(
        "trigger_dbt_cli_command")]
    assert any("Running with dbt=" in line for line in lines)
    assert any("OK created sql view model main.orders" in line for line in lines)
    [artifact] = list_artifacts(get_store())
    assert artifact["key"] == "dbt-build-results"
    assert artifact["data"]["columns"][:3] == ["node", "type", "status"]
    assert {row[0] for row in artifact["data"]["rows"]} == {n.unique_id for n in result.nodes}
    run = history.get_run(get_store(), artifact["run_id"])
    assert run["fn_name"] == "trigger_dbt_cli_command" and run["state_name"] == "Completed"


def test_a_failing_test_and_model_raise_dbt_failure_naming_each(broken_project, duckdb_profile):
    with pytest.raises(DbtFailure) as caught:
        trigger_dbt_cli_command("dbt build", project_dir=broken_project,
                                dbt_cli_profile=duckdb_profile)

    message = str(caught.value)
    assert "model.shop.broken_model (error)" in message and "no_such_column" in message
    assert "test.shop.exactly_one_order (fail)" in message
    result = caught.value.result
    assert not result.success
    assert {n.unique_id for n in result.failed_nodes} == {"model.shop.broken_model",
                                                          "test.shop.exactly_one_order"}
    assert ("model", "customer_totals") in node_names(result)  # the rest still ran
    # The summary is attached even when the run fails.
    [artifact] = list_artifacts(get_store())
    assert "2 failed" in artifact["description"]


def test_dbt_unable_to_run_raises_an_invocation_error(tmp_path, duckdb_profile):
    with pytest.raises(DbtInvocationError, match="could not run"):
        trigger_dbt_cli_command("dbt build", project_dir=tmp_path / "nowhere",
                                dbt_cli_profile=duckdb_profile)


def test_no_profiles_yml_holding_a_secret_is_left_after_success_or_failure(
        shop_project, broken_project, duckdb_profile, canary, caplog, block_home):
    profile = duckdb_profile.model_copy(deep=True)
    profile.target_configs.secret_extras = {"api_token": canary}
    before = profile_folders()

    with caplog.at_level(logging.DEBUG, logger="core_blocks.runs"):
        ok = run_dbt_seed(project_dir=shop_project, dbt_cli_profile=profile)
        with pytest.raises(DbtFailure) as caught:
            trigger_dbt_cli_command("dbt build", project_dir=broken_project,
                                    dbt_cli_profile=profile)

    assert profile_folders() == before
    assert ok.success and len(caplog.records) > 50  # debug lines too: dbt's SQL included
    assert canary not in caplog.text
    assert canary not in repr(ok) + repr(caught.value.result) + str(caught.value)
    history.flush()
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()
    for folder in (shop_project, broken_project):  # dbt's own logs and target/ artifacts
        for path in folder.rglob("*"):
            assert path.is_dir() or canary.encode() not in path.read_bytes(), path


def test_a_profile_is_written_to_profiles_dir_unless_one_is_there(shop_project,
                                                                  duckdb_profile, tmp_path):
    """As Prefect's: written when profiles_dir has no profiles.yml; an existing one is replaced
    only with overwrite_profiles."""
    folder = tmp_path / "dot-dbt"
    written = folder / "profiles.yml"
    from prefect_dbt import DbtConfigError

    run_dbt_seed(project_dir=shop_project, profiles_dir=folder, dbt_cli_profile=duckdb_profile)
    assert written.stat().st_mode & 0o777 == 0o600
    assert "type: duckdb" in written.read_text()

    written.write_text("# the user's own\n")
    with pytest.raises(DbtConfigError, match="already exists.*overwrite_profiles=True"):
        run_dbt_seed(project_dir=shop_project, profiles_dir=folder,
                     dbt_cli_profile=duckdb_profile)
    assert written.read_text() == "# the user's own\n"

    run_dbt_seed(project_dir=shop_project, profiles_dir=folder, dbt_cli_profile=duckdb_profile,
                 overwrite_profiles=True)
    assert "type: duckdb" in written.read_text()
    assert [p.name for p in folder.iterdir()] == ["profiles.yml"]  # no temporary file left


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_profile_that_cannot_be_written_leaves_profiles_dir_as_it_was(
        shop_project, duckdb_profile, tmp_path, overwrite):
    profile = duckdb_profile.model_copy(deep=True)
    profile.target_configs.extras = {"path": "clash.duckdb"}  # a field's key: refused
    folder = tmp_path / "dot-dbt"
    from prefect_dbt import DbtConfigError

    with pytest.raises(DbtConfigError, match="extras key 'path'"):
        run_dbt_seed(project_dir=shop_project, profiles_dir=folder, dbt_cli_profile=profile,
                     overwrite_profiles=overwrite)
    assert not folder.exists()

    folder.mkdir()
    (folder / "profiles.yml").write_text("# the user's own\n")
    with pytest.raises(DbtConfigError):
        run_dbt_seed(project_dir=shop_project, profiles_dir=folder, dbt_cli_profile=profile,
                     overwrite_profiles=overwrite)
    assert [p.name for p in folder.iterdir()] == ["profiles.yml"]
    assert (folder / "profiles.yml").read_text() == "# the user's own\n"


def test_a_core_operation_runs_its_commands_in_order(shop_project, duckdb_profile):
    operation = DbtCoreOperation(commands=["dbt seed", "dbt run --select orders"],
                                 project_dir=str(shop_project), dbt_cli_profile=duckdb_profile)

    seeded, ran = operation.run()

    assert node_names(seeded) == {("seed", "raw_orders")}
    assert node_names(ran) == {("model", "orders")}


def test_a_path_in_extras_reaches_dbt_as_a_string(shop_project, duckdb_profile, tmp_path):
    profile = duckdb_profile.model_copy(deep=True)
    profile.target_configs.extras = {"external_root": tmp_path / "external"}

    result = run_dbt_seed(project_dir=shop_project, dbt_cli_profile=profile,
                          profiles_dir=tmp_path / "dot-dbt", overwrite_profiles=True)

    assert node_names(result) == {("seed", "raw_orders")}
    assert f"external_root: {tmp_path / 'external'}" in (
        tmp_path / "dot-dbt" / "profiles.yml").read_text()


def test_run_dbt_model_is_prefects_name_for_dbt_run(shop_project, duckdb_profile):
    from prefect_dbt import cli

    run_dbt_seed(project_dir=shop_project, dbt_cli_profile=duckdb_profile)
    result = run_dbt_model(project_dir=shop_project, dbt_cli_profile=duckdb_profile)

    assert run_dbt_model is run_dbt_run is cli.run_dbt_model
    assert result.command.startswith("dbt run ")
    assert node_names(result) == {("model", "orders"), ("model", "customer_totals")}


def test_source_freshness_reports_each_source_and_attaches_its_table(shop_project,
                                                                     duckdb_profile):
    from prefect_dbt import cli

    @flow
    def check():
        run_dbt_seed(project_dir=shop_project, dbt_cli_profile=duckdb_profile)
        return run_dbt_source_freshness(project_dir=shop_project,
                                        dbt_cli_profile=duckdb_profile)

    result = check()

    assert cli.run_dbt_source_freshness is run_dbt_source_freshness
    assert result.command.startswith("dbt source freshness")
    [node] = result.nodes
    assert (node.unique_id, node.resource_type, node.status) == (
        "source.shop.landing.raw_orders", "source", "pass")
    keys = {a["key"] for a in list_artifacts(get_store())}
    assert keys == {"dbt-seed-results", "dbt-source-freshness-results"}


def test_stream_output_false_keeps_dbts_lines_out_of_the_log(shop_project, duckdb_profile,
                                                             caplog):
    def dbt_lines():
        lines = [r.getMessage() for r in caplog.records if "Running with dbt=" in r.getMessage()]
        caplog.clear()
        return lines

    operation = DbtCoreOperation(commands=["dbt seed"], project_dir=str(shop_project),
                                 dbt_cli_profile=duckdb_profile, stream_output=False)
    with caplog.at_level(logging.DEBUG, logger="core_blocks.runs"):
        quiet = run_dbt_seed(project_dir=shop_project, dbt_cli_profile=duckdb_profile,
                             stream_output=False)
        assert dbt_lines() == []
        [from_operation] = operation.run()
        assert dbt_lines() == []
        run_dbt_seed(project_dir=shop_project, dbt_cli_profile=duckdb_profile)
        assert len(dbt_lines()) == 1  # the default streams them

    assert quiet.success and node_names(from_operation) == {("seed", "raw_orders")}


def test_a_core_operation_takes_its_folders_as_paths(shop_project, duckdb_profile, tmp_path,
                                                     block_home):
    operation = DbtCoreOperation(commands=["dbt seed"], project_dir=shop_project,
                                 profiles_dir=tmp_path / "dot-dbt",
                                 dbt_cli_profile=duckdb_profile, overwrite_profiles=True)
    operation.save("seed-shop")

    loaded = DbtCoreOperation.load("seed-shop")
    [seeded] = loaded.run()

    assert (loaded.project_dir, loaded.profiles_dir) == (str(shop_project),
                                                         str(tmp_path / "dot-dbt"))
    assert node_names(seeded) == {("seed", "raw_orders")}
    assert (tmp_path / "dot-dbt" / "profiles.yml").exists()


def test_a_result_reads_dbts_result_and_exception_through(shop_project, duckdb_profile):
    """Code written for Prefect's tasks reads .result and .exception of dbt's own result."""
    listed = trigger_dbt_cli_command("dbt ls --resource-type seed --output name",
                                     project_dir=shop_project, dbt_cli_profile=duckdb_profile)
    seeded = run_dbt_seed(project_dir=shop_project, dbt_cli_profile=duckdb_profile)

    assert listed.result == ["raw_orders"] and listed.exception is None
    assert [r.node.unique_id for r in seeded.result.results] == ["seed.shop.raw_orders"]
    assert seeded.result is seeded.raw.result and seeded.exception is None
    with pytest.raises(AttributeError):
        seeded.result = None  # read-only, as the rest of the result


def test_async_flow_awaits_the_tasks_and_the_operation(shop_project, duckdb_profile):
    """Prefect 3's rule: the same names are awaited in async code (dbt runs in a worker
    thread), and `_sync=True` gives the result at once."""
    import asyncio

    operation = DbtCoreOperation(commands=["dbt seed"], project_dir=str(shop_project),
                                 dbt_cli_profile=duckdb_profile)

    @flow
    async def nightly():
        seeded = await run_dbt_seed(project_dir=shop_project, dbt_cli_profile=duckdb_profile)
        [from_operation] = await operation.run()
        forced = run_dbt_seed(project_dir=shop_project, dbt_cli_profile=duckdb_profile,
                              _sync=True)
        return seeded, from_operation, forced

    results = asyncio.run(nightly())

    assert [node_names(r) for r in results] == [{("seed", "raw_orders")}] * 3
    runs = [history.get_run(get_store(), a["run_id"]) for a in list_artifacts(get_store())]
    assert [(r["fn_name"], r["state_name"]) for r in runs] == [
        ("trigger_dbt_cli_command", "Completed")] * 3


def test_a_triggered_operation_runs_in_the_background(shop_project, duckdb_profile):
    with DbtCoreOperation(commands=["pwd", "dbt seed"], project_dir=shop_project,
                          dbt_cli_profile=duckdb_profile) as operation:
        process = operation.trigger()
        process.wait_for_completion()
        pwd, seed = process.fetch_result()
    assert process.return_code == 0
    assert pwd.output == [str(shop_project)] and pwd.return_code == 0
    assert node_names(seed) == {("seed", "raw_orders")}


def test_a_failed_command_fails_the_triggered_process(shop_project, duckdb_profile):
    process = DbtCoreOperation(commands=["ls no-such-folder", "dbt seed"],
                               project_dir=shop_project,
                               dbt_cli_profile=duckdb_profile).trigger()
    with pytest.raises(DbtInvocationError, match="'ls no-such-folder' exited with code 2"):
        process.wait_for_completion()
    assert process.return_code == 1


def test_a_command_that_is_not_dbt_runs_without_a_shell(shop_project):
    [echo] = DbtCoreOperation(commands=["echo '$HOME; rm -rf x'"], project_dir=shop_project).run()
    assert echo.output == ["$HOME; rm -rf x"]


def test_prefects_async_names_run_the_command_in_a_thread(shop_project, duckdb_profile):
    import asyncio

    from prefect_dbt.cli.commands import arun_dbt_model, arun_dbt_seed

    @flow
    async def nightly():
        await arun_dbt_seed(project_dir=shop_project, dbt_cli_profile=duckdb_profile)
        return await arun_dbt_model(project_dir=shop_project, dbt_cli_profile=duckdb_profile,
                                    extra_command_args=["--select", "orders"])

    result = asyncio.run(nightly())
    assert node_names(result) == {("model", "orders")}
    runs = [history.get_run(get_store(), a["run_id"]) for a in list_artifacts(get_store())]
    assert {(r["fn_name"], r["state_name"], r["flow_name"]) for r in runs} == {
        ("trigger_dbt_cli_command", "Completed", "nightly")}


def test_an_operation_writes_its_profile_to_profiles_dir_once(shop_project, duckdb_profile,
                                                              tmp_path):
    from prefect_dbt.cli.commands import dbt_build_task, run_dbt_build

    folder = tmp_path / "profiles"
    seed, run = DbtCoreOperation(commands=["dbt seed", "dbt run --select orders"],
                                 project_dir=shop_project, profiles_dir=folder,
                                 dbt_cli_profile=duckdb_profile).run()
    assert node_names(run) == {("model", "orders")}
    assert (folder / "profiles.yml").exists()
    assert dbt_build_task is run_dbt_build  # Prefect's older name
