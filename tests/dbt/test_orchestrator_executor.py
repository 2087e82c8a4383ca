"""DbtCoreExecutor on real dbt-duckdb: one node, a wave, a failing node, full refresh, extra
arguments, the state and defer flags (read back from dbt's own run_results.json), the
manifest made by dbt parse, the pinned profiles folder and the adapter pool."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from prefect_dbt import PrefectDbtSettings
from prefect_dbt.errors import DbtConfigError, DbtFailure
from tests.dbt.project import write_project

PROFILE = """shop:
  target: dev
  outputs:
    dev: {type: duckdb, path: "%s", threads: 2}
"""


def _settings(project: Path, folder: Path, **options) -> PrefectDbtSettings:
    """Settings for `project` with a DuckDB profiles.yml of its own in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(PROFILE % (folder / "shop.duckdb"))
    return PrefectDbtSettings(project_dir=project, profiles_dir=folder, **options)


@pytest.fixture(scope="module")
def settings(shop_project, tmp_path_factory):
    return _settings(shop_project, tmp_path_factory.mktemp("profiles"))


@pytest.fixture(scope="module")
def executor(settings):
    from prefect_dbt.core._executor import DbtCoreExecutor

    return DbtCoreExecutor(settings)


@pytest.fixture(scope="module")
def nodes(executor):
    """name -> DbtNode of the shop project, from the manifest dbt parse makes."""
    return _nodes(executor.resolve_manifest_path())


@pytest.fixture(scope="module")
def seeded(executor, nodes):
    """The seed loaded once for the module: what the models read."""
    result = executor.execute_node(nodes["raw_orders"], "seed")
    assert result.success, result.error
    return result


def _nodes(manifest: Path) -> dict:
    from prefect_dbt.core._manifest import DbtNode

    data = json.loads(manifest.read_text())["nodes"]
    return {n["name"]: DbtNode(unique_id=uid, name=n["name"], resource_type=n["resource_type"],
                               fqn=tuple(n["fqn"]), original_file_path=n["original_file_path"])
            for uid, n in data.items()}


def _dbt_args(settings) -> dict:
    """The flags dbt ran the last invocation with, as it wrote them to run_results.json."""
    path = Path(settings.project_dir) / settings.target_path / "run_results.json"
    return json.loads(path.read_text())["args"]


def test_the_manifest_is_made_by_dbt_parse_when_missing(executor, settings):
    target = Path(settings.project_dir) / settings.target_path
    shutil.rmtree(target, ignore_errors=True)

    path = executor.resolve_manifest_path()

    assert path == (target / "manifest.json").resolve() and path.is_absolute()
    assert "model.shop.orders" in json.loads(path.read_text())["nodes"]


def test_a_node_reports_its_status_and_its_log_lines(seeded):
    assert seeded.node_ids == ["seed.shop.raw_orders"] and seeded.error is None
    assert seeded.artifacts["seed.shop.raw_orders"]["status"] == "success"
    assert seeded.artifacts["seed.shop.raw_orders"]["execution_time"] > 0
    lines = seeded.log_messages["seed.shop.raw_orders"]
    assert any(level == "info" and "raw_orders" in message for level, message in lines)
    assert any("Running with dbt" in message for _, message in seeded.log_messages[""])


def test_a_wave_is_one_build_with_the_tests_of_its_models(executor, nodes, seeded, settings):
    result = executor.execute_wave([nodes["orders"], nodes["customer_totals"]])

    assert result.success, result.error
    assert result.node_ids[:2] == ["model.shop.orders", "model.shop.customer_totals"]
    tests = {uid for uid in result.node_ids if uid.startswith("test.")}
    assert len(tests) == 3 and all(result.artifacts[t]["status"] == "pass" for t in tests)
    assert _dbt_args(settings)["which"] == "build"


def test_indirect_selection_empty_leaves_the_tests_out(executor, nodes, seeded):
    result = executor.execute_wave([nodes["orders"]], indirect_selection="empty")

    assert result.success and result.node_ids == ["model.shop.orders"]


def test_full_refresh_reaches_run_and_is_left_out_of_test(executor, nodes, seeded, settings):
    assert executor.execute_node(nodes["orders"], "run", full_refresh=True).success
    assert _dbt_args(settings)["full_refresh"] is True

    # dbt test has no --full-refresh: passing it would fail the invocation
    result = executor.execute_node(nodes["unique_orders_id"], "test", full_refresh=True)
    assert result.success, result.error
    assert result.artifacts[nodes["unique_orders_id"].unique_id]["status"] == "pass"


def test_extra_arguments_and_target_reach_dbt(executor, nodes, seeded, settings):
    result = executor.execute_node(nodes["orders"], "run", target="dev",
                                   extra_cli_args=["--vars", '{"region": "eu"}'])

    assert result.success, result.error
    args = _dbt_args(settings)
    assert args["vars"] == {"region": "eu"} and args["target"] == "dev"
    assert args["send_anonymous_usage_stats"] is False


def test_state_defer_and_threads_reach_dbt(shop_project, settings, nodes, seeded, tmp_path):
    from prefect_dbt.core._executor import DbtCoreExecutor

    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(Path(shop_project) / "target" / "manifest.json", state)
    executor = DbtCoreExecutor(settings, threads=1, state_path=state, defer=True,
                               defer_state_path=state, favor_state=True)

    assert executor.execute_node(nodes["customer_totals"], "run").success
    args = _dbt_args(settings)
    assert args["threads"] == 1 and args["defer"] is True and args["favor_state"] is True
    assert Path(args["state"]) == state and Path(args["defer_state"]) == state


def test_a_failing_node_fails_the_result_with_dbt_s_message(broken_project, tmp_path):
    from prefect_dbt.core._executor import DbtCoreExecutor

    executor = DbtCoreExecutor(_settings(broken_project, tmp_path, log_level="error"))
    nodes = _nodes(executor.resolve_manifest_path())
    assert executor.execute_node(nodes["raw_orders"], "seed").success

    result = executor.execute_node(nodes["broken_model"], "run")

    assert not result.success and result.node_ids == ["model.shop.broken_model"]
    assert isinstance(result.error, DbtFailure) and "broken_model" in str(result.error)
    artifact = result.artifacts["model.shop.broken_model"]
    assert artifact["status"] == "error" and "no_such_column" in artifact["message"]
    levels = {level for lines in result.log_messages.values() for level, _ in lines}
    assert levels == {"error"}  # log_level="error" keeps nothing below it


def test_a_failing_parse_says_so(tmp_path):
    from prefect_dbt.core._executor import DbtCoreExecutor

    project = write_project(tmp_path / "project")
    (project / "models" / "schema.yml").write_text("version: 2\nmodels: [[[\n")
    executor = DbtCoreExecutor(_settings(project, tmp_path / "profiles"), run_deps=False)

    with pytest.raises(RuntimeError, match="Failed to generate manifest via 'dbt parse'"):
        executor.resolve_manifest_path()


def test_deps_installs_the_project_s_packages(tmp_path):
    from prefect_dbt.core._executor import DbtCoreExecutor

    package = tmp_path / "helpers"
    package.mkdir()
    (package / "dbt_project.yml").write_text("name: helpers\nversion: '1.0'\n"
                                             "config-version: 2\n")
    project = write_project(tmp_path / "project")
    (project / "packages.yml").write_text(f"packages:\n  - local: {package}\n")

    DbtCoreExecutor(_settings(project, tmp_path / "profiles")).run_deps()

    assert (project / "dbt_packages" / "helpers" / "dbt_project.yml").exists()


def test_a_profile_that_cannot_resolve_is_the_result_s_error(settings, nodes, tmp_path):
    from prefect_dbt.core._executor import DbtCoreExecutor

    (tmp_path / "profiles.yml").write_text(
        "shop:\n  outputs:\n    dev: {type: duckdb, path: '{{ prefect.variables.x }}'}\n")
    unresolvable = settings.model_copy(update={"profiles_dir": tmp_path})
    executor = DbtCoreExecutor(unresolvable)

    result = executor.execute_node(nodes["orders"], "run")
    assert not result.success and result.node_ids == ["model.shop.orders"]
    assert isinstance(result.error, DbtConfigError)

    # a folder resolved once is used instead, as the orchestrator does for a whole build
    with executor.use_resolved_profiles_dir(str(settings.profiles_dir)):
        assert executor.execute_node(nodes["orders"], "run").success
    assert not executor.execute_node(nodes["orders"], "run").success


def test_an_empty_wave_is_refused(executor):
    with pytest.raises(ValueError, match="Cannot execute an empty wave"):
        executor.execute_wave([])


def test_the_adapter_pool_reuses_dbt_s_adapter_between_nodes(settings, nodes, seeded):
    import dbt.adapters.factory as factory

    from prefect_dbt.core._executor import DbtCoreExecutor, DbtExecutor, _adapter_pool
    from prefect_dbt.core._executor import _PoolState as State

    original = factory.adapter_management
    executor = DbtCoreExecutor(settings, pool_adapters=True)
    assert isinstance(executor, DbtExecutor)
    try:
        assert executor.execute_node(nodes["orders"], "run").success
        assert _adapter_pool._state is State.POOLED
        adapter = factory.FACTORY.adapters["duckdb"]

        assert executor.execute_node(nodes["customer_totals"], "run").success
        assert factory.FACTORY.adapters["duckdb"] is adapter
    finally:
        _adapter_pool.revert()
    assert _adapter_pool._state is State.INACTIVE and factory.adapter_management is original
