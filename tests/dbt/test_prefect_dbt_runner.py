"""PrefectDbtRunner and PrefectDbtSettings on real dbt-duckdb: node runs that start and end
with dbt's nodes, hooks, dbt's lines in the run log, failures, assets from the manifest, and
profiles.yml referring to saved blocks.

dbt costs seconds a command: one build of each project per module (`good_build`,
`broken_build`) is shared by the tests that read what it left.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from pathlib import Path

import pytest

from core_blocks import JSON, Secret, String, flow
from core_blocks.runtime import history
from core_blocks.store import get_store
from core_blocks.testing.isolation import isolated_home
from prefect_dbt import DbtConfigError, DbtFailure, PrefectDbtRunner, PrefectDbtSettings

PROFILE = """shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ prefect.blocks.string.duck-path.value }}"
      threads: "{{ prefect.blocks.json.threads.value }}"
      schema: "main_{{ prefect.blocks.secret.agent }}"
"""
CANARY = "canary7f3a"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """profiles.yml referring to blocks, and the DuckDB file they name: the same for the
    whole module, so dbt parses each project once."""
    folder = tmp_path_factory.mktemp("warehouse")
    (folder / "profiles.yml").write_text(PROFILE)
    return folder


def _save_blocks(warehouse: Path) -> None:
    String(value=str(warehouse / "shop.duckdb")).save("duck-path")
    JSON(value=2).save("threads")
    Secret(value=CANARY).save("agent")


@pytest.fixture
def settings(shop_project, warehouse, block_home):
    _save_blocks(warehouse)
    return PrefectDbtSettings(project_dir=shop_project, profiles_dir=warehouse)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _build_in_a_flow(project: Path, warehouse: Path, tmp: Path, **options):
    """Build `project` within a flow in a home of its own; what the tests read of it:
    the flow's run (its node runs and artifacts), the hooks' calls, the run log's lines and
    the error raised, if any."""
    calls: list[tuple] = []
    lines = _Lines()
    runs = logging.getLogger("core_blocks.runs")
    runs.addHandler(lines)
    level, _ = runs.level, runs.setLevel(logging.INFO)
    with isolated_home(tmp):
        _save_blocks(warehouse)
        settings = PrefectDbtSettings(project_dir=project, profiles_dir=warehouse)
        runner = PrefectDbtRunner(settings=settings, **options)
        runner.on_run_start(lambda ctx: calls.append((ctx.event, ctx.command, ctx.args)))
        runner.post_model(lambda ctx: calls.append((ctx.event, ctx.node_id, ctx.status)))
        runner.post_model(select="orders")(
            lambda ctx: calls.append(("selected", ctx.node_id)))
        runner.on_run_end(lambda ctx: calls.append((ctx.event, ctx.status,
                                                    sorted(ctx.run_results))))
        ids, raised = [], None

        @flow
        def build():
            from core_blocks import get_run_context

            ids.append(get_run_context().run.id)
            runner.invoke(["build"])

        try:
            build()
        except Exception as exc:
            raised = exc
        finally:
            runs.removeHandler(lines)
            runs.setLevel(level)
        run = history.get_run(get_store(), ids[0])
    return {"run": run, "nodes": {c["name"].rsplit("-", 1)[0]: c["state_name"]
                                  for c in run["children"]},
            "calls": calls, "lines": lines.lines, "raised": raised, "runner": runner}


@pytest.fixture(scope="module")
def good_build(shop_project, warehouse, tmp_path_factory):
    return _build_in_a_flow(shop_project, warehouse, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def broken_build(broken_project, warehouse, tmp_path_factory):
    return _build_in_a_flow(broken_project, warehouse, tmp_path_factory.mktemp("home"))


def test_each_node_is_a_run_of_the_invoking_flow(good_build):
    nodes = good_build["nodes"]
    assert nodes["seed raw_orders"] == "Completed" and nodes["model orders"] == "Completed"
    assert nodes["model customer_totals"] == "Completed"
    assert nodes["test unique_orders_id"] == "Completed"
    artifacts = good_build["run"]["artifacts"]
    assert any(a["type"] == "table" for a in artifacts), "the build's summary table"


def test_model_and_seed_runs_record_the_tables_they_wrote(good_build):
    runs = {c["id"]: c["name"].rsplit("-", 1)[0] for c in good_build["run"]["children"]}
    assets = {runs[a["run_id"]]: a for a in good_build["run"]["artifacts"]
              if a["key"] == "dbt-asset"}

    assert set(assets) == {"seed raw_orders", "model orders", "model customer_totals"}
    orders = assets["model orders"]
    assert orders["description"].startswith("duckdb://") and "orders" in orders["description"]
    assert "Built from:" in str(orders["data"]) and "raw_orders" in str(orders["data"])
    assert CANARY not in str(assets)  # the schema's name holds a secret


def test_hooks_are_called_around_the_build_and_after_each_model(good_build):
    calls = good_build["calls"]

    assert calls[0] == ("run_start", "build", ("build",))
    assert ("post_model", "model.shop.orders", "success") in calls
    assert ("post_model", "model.shop.customer_totals", "success") in calls
    assert not any(c[0] == "post_model" and c[1].startswith(("seed.", "test.")) for c in calls)
    assert [c for c in calls if c[0] == "selected"] == [("selected", "model.shop.orders")]
    event, status, node_ids = calls[-1]
    assert (event, status) == ("run_end", "success") and "seed.shop.raw_orders" in node_ids


def test_dbt_lines_reach_the_run_log_by_node_with_secrets_masked(good_build):
    lines = good_build["lines"]

    assert any(line.startswith("model orders | ") and "OK created" in line for line in lines)
    assert any(line.startswith("build-") for line in lines)  # lines of no node: the flow's
    assert not any(CANARY in line for line in lines)


def test_failed_nodes_fail_their_runs_and_the_invocation(broken_build):
    raised, nodes = broken_build["raised"], broken_build["nodes"]

    assert isinstance(raised, DbtFailure) and isinstance(raised, ValueError)  # as Prefect's
    assert str(raised).startswith("Failures detected during invocation of dbt command "
                                  "'build':\nModel broken_model errored with message:")
    assert CANARY not in str(raised)  # dbt quoted the schema, which holds a secret
    assert CANARY not in repr(broken_build["run"])  # nor in the history's errors
    assert nodes["model broken_model"] == "Failed"
    assert nodes["test exactly_one_order"] == "Failed"
    # dbt skips what depends on a failure: no run for those
    assert "model customer_totals" not in nodes
    assert ("post_model", "model.shop.broken_model", "error") in broken_build["calls"]
    assert broken_build["calls"][-1][:2] == ("run_end", "error")


def test_without_raise_on_failure_only_the_node_runs_fail(settings, broken_project):
    settings = settings.model_copy(update={"project_dir": broken_project})

    @flow
    def build():
        return PrefectDbtRunner(settings=settings, raise_on_failure=False).invoke(
            ["build", "--select", "broken_model"])

    assert build().success is False


def test_outside_a_run_nodes_become_runs_only_when_forced(settings):
    result = PrefectDbtRunner(settings=settings, _force_nodes_as_tasks=True).invoke(
        ["dbt", "seed"], select=["raw_orders"])

    assert result.success
    runs = history.list_runs(get_store(), name="seed raw_orders-*")
    assert [r["state_name"] for r in runs] == ["Completed"]
    assert runs[0]["parent_id"] is None


def test_assets_and_graph_come_from_the_manifest(good_build, settings):
    runner = PrefectDbtRunner(settings=settings, include_compiled_code=True)
    orders = runner.manifest.nodes["model.shop.orders"]
    totals = runner.manifest.nodes["model.shop.customer_totals"]

    assert runner.project_name == "shop"
    asset = runner._create_asset_from_node(orders, runner.manifest.metadata.adapter_type)
    assert asset.key.startswith("duckdb://") and asset.key.endswith("/orders")
    assert "### Compiled code" in asset.properties.description
    assert "select id, customer, amount" in asset.properties.description
    upstream = runner._get_upstream_manifest_nodes_and_configs(totals)
    assert [node.unique_id for node, _ in upstream] == ["model.shop.orders"]
    assert "model.shop.customer_totals" in runner.graph.get_dependent_nodes(
        "model.shop.orders")


def test_a_missing_manifest_says_where_it_was_looked_for(tmp_path):
    runner = PrefectDbtRunner(settings=PrefectDbtSettings(project_dir=tmp_path,
                                                          profiles_dir=tmp_path))
    with pytest.raises(ValueError, match=f"Manifest file not found in {tmp_path}/target"):
        _ = runner.manifest


def test_retry_needs_the_results_of_an_earlier_run(tmp_path):
    runner = PrefectDbtRunner(settings=PrefectDbtSettings(project_dir=tmp_path,
                                                          profiles_dir=tmp_path))
    with pytest.raises(ValueError, match="Cannot retry. No previous results found"):
        runner.invoke(["retry"])


def test_dbt_is_given_the_settings_its_command_takes(tmp_path):
    runner = PrefectDbtRunner(settings=PrefectDbtSettings(
        project_dir=tmp_path, profiles_dir=tmp_path, log_level="warn"))

    deps = runner._settings_for_command(["--log-format", "json", "deps"], in_run=False)
    assert "target_path" not in deps and deps["project_dir"] == str(tmp_path)
    assert runner._settings_for_command(["run"], in_run=False)["log_level"] == "warn"
    in_run = runner._settings_for_command(["run"], in_run=True)
    assert in_run["log_level"] == "none" and in_run["use_colors"] is False
    assert "use_colors" not in runner._settings_for_command(["run", "--use-colors"], True)
    assert runner._determine_invoked_command(["--quiet", "source", "freshness"]) == \
        "source freshness"


def test_the_event_worker_outlives_a_failing_handler():
    runner = PrefectDbtRunner()
    runner._event_queue, runner._shutdown_event = queue.PriorityQueue(), threading.Event()
    handled = []

    def broken(event):
        raise RuntimeError("handler bug")

    runner._event_queue.put((0, 0, (broken, "first")))
    runner._event_queue.put((1, 1, (handled.append, "second")))
    runner._event_queue.put((2, 2, None))
    runner._callback_worker()

    assert handled == ["second"] and runner._event_queue.unfinished_tasks == 0
    runner._stop_callback_processor()
    assert runner._event_queue is None and runner._skipped_nodes == set()


def test_a_node_run_fails_with_dbts_message():
    from prefect_dbt.core._tracker import NodeTaskTracker
    from prefect_dbt.core.runner import DbtNodeFailed, execute_dbt_node

    tracker = NodeTaskTracker()
    tracker.set_node_status("model.shop.orders", {
        "node_info": {"node_status": "error"},
        "run_result": {"message": "Binder Error:\n  no such column"}}, "Finished")

    with pytest.raises(DbtNodeFailed, match="model.shop.orders finished with status error: "
                                            "Binder Error: no such column"):
        execute_dbt_node(tracker, "model.shop.orders", None)


def test_the_resolved_profiles_yml_is_private_and_removed(settings):
    with settings.resolve_profiles_yml() as folder:
        path = Path(folder) / "profiles.yml"
        text = path.read_text()
        assert path.stat().st_mode & 0o077 == 0
    # `prefect.blocks.secret.agent` without a field: the block's value, as in Prefect
    assert "threads: 2\n" in text and f"main_{CANARY}" in text
    assert not Path(folder).exists()
    assert not any(CANARY in p.read_text(errors="ignore")
                   for p in Path(tempfile.gettempdir()).glob("core-blocks-dbt-*/profiles.yml"))


def test_block_references_resolve_in_async_code_too(settings):
    import asyncio

    async def resolve():  # an async flow calling invoke: Block.load must not hand back a
        with settings.resolve_profiles_yml() as folder:  # coroutine here
            return (Path(folder) / "profiles.yml").read_text()

    assert f"main_{CANARY}" in asyncio.run(resolve())


def test_a_variable_reference_says_what_to_use_instead(tmp_path, block_home):
    (tmp_path / "profiles.yml").write_text("shop:\n  target: \"{{ prefect.variables.target }}\"\n")
    settings = PrefectDbtSettings(project_dir=tmp_path, profiles_dir=tmp_path)
    with pytest.raises(DbtConfigError, match="no variables. Save the value as a block"):
        with settings.resolve_profiles_yml():
            pass


def test_settings_come_from_dbt_environment_variables(monkeypatch, tmp_path):
    from dbt_common.events.base_types import EventLevel

    monkeypatch.setenv("DBT_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path / "p"))
    settings = PrefectDbtSettings(log_level=EventLevel.ERROR)
    assert settings.project_dir == tmp_path and settings.profiles_dir == tmp_path / "p"
    assert settings.log_level == EventLevel.ERROR and settings.log_level.value == "error"
    monkeypatch.setenv("DBT_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="Input should be 'debug', 'test', 'info', 'warn' or "
                                         "'error'.*DBT_LOG_LEVEL"):
        PrefectDbtSettings()


def test_the_log_level_follows_the_run_logger_unless_set(monkeypatch):
    monkeypatch.delenv("DBT_LOG_LEVEL", raising=False)
    runs = logging.getLogger("core_blocks.runs")
    monkeypatch.setattr(runs, "level", logging.WARNING)
    assert PrefectDbtSettings().log_level == "warn"
    monkeypatch.setattr(runs, "level", logging.NOTSET)
    assert PrefectDbtSettings().log_level == "info"


def test_settings_name_a_missing_project_or_profiles(settings, tmp_path):
    settings.validate_for_orchestrator()
    with pytest.raises(DbtConfigError, match="No dbt_project.yml found in project_dir.*"
                                             "Pass project_dir explicitly"):
        settings.model_copy(update={"project_dir": tmp_path}).validate_for_orchestrator()
    with pytest.raises(ValueError, match='profiles_dir ".*nowhere" does not exist'):
        settings.model_copy(update={"profiles_dir": tmp_path / "nowhere"}
                            ).validate_for_orchestrator()


def test_the_executor_runs_one_node_and_reports_it(settings):
    from prefect_dbt.core._executor import DbtCoreExecutor
    from prefect_dbt.core._manifest import DbtNode

    seed = DbtNode("seed.shop.raw_orders", "raw_orders", "seed",
                   original_file_path="seeds/raw_orders.csv")
    result = DbtCoreExecutor(settings).execute_wave([seed])

    assert result.success and result.node_ids == ["seed.shop.raw_orders"]
    assert result.artifacts["seed.shop.raw_orders"]["status"] == "success"
