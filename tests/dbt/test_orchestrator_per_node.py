"""PrefectDbtOrchestrator in PER_NODE mode: on real dbt-duckdb, every node of the shop project a
task run of its own, a failing model skipping what is below it, retries, the node cache (a
hit on an unchanged second build, a miss after a model file changes); with a stand-in
executor (no dbt needed), concurrency limits and eager scheduling; and the cache keys."""

from __future__ import annotations

import pickle
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from core_blocks import ThreadPoolTaskRunner, flow
from core_blocks.runtime import history
from core_blocks.store import get_store
from core_blocks.testing.isolation import isolated_home
from prefect_dbt import PrefectDbtSettings
from prefect_dbt.core._cache import DbtNodeCachePolicy, build_cache_policy_for_node
from prefect_dbt.core._executor import ExecutionResult
from prefect_dbt.core._manifest import DbtNode
from prefect_dbt.core._orchestrator import (
    CacheConfig,
    DbtBuildFailed,
    ExecutionMode,
    PrefectDbtOrchestrator,
)
from prefect_dbt.core._per_node import (
    _dbt_global_log_dedupe_processor_factory,
    _DbtNodeError,
)
from tests.dbt.project import write_project

PROFILE = """shop:
  target: dev
  outputs:
    dev: {type: duckdb, path: "%s", threads: 2}
"""
# A model below the broken one: it must be skipped, never run.
AFTER_BROKEN = "select * from {{ ref('broken_model') }}\n"


def _short(unique_id: str) -> str:
    """'test.shop.unique_orders_id.6b4f' -> 'test.unique_orders_id'."""
    kind, _, name = unique_id.split(".")[:3]
    return f"{kind}.{name}"


def _statuses(results: dict) -> dict[str, str]:
    return {_short(nid): r["status"] for nid, r in results.items()}


def _settings(project: Path, folder: Path) -> PrefectDbtSettings:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(PROFILE % (folder / "shop.duckdb"))
    return PrefectDbtSettings(project_dir=project, profiles_dir=folder)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The shop project built node by node within a flow, three times with the cache (the
    third after customer_totals.sql changed), and the broken project built with retries."""
    root = tmp_path_factory.mktemp("per-node")
    project = write_project(root / "shop")
    broken = write_project(root / "broken", broken=True)
    (broken / "models" / "after_broken.sql").write_text(AFTER_BROKEN)
    with isolated_home(root / "home"):
        cache = CacheConfig(result_storage=root / "cache")
        orchestrator = PrefectDbtOrchestrator(
            settings=_settings(project, root / "profiles"), cache=cache,
            execution_mode=ExecutionMode.PER_NODE, create_summary_artifact=False)

        @flow
        def nightly_dbt():
            return orchestrator.run_build()

        first = nightly_dbt()
        run = history.get_run(get_store(), _newest_flow_run_id())
        second = nightly_dbt()
        model = project / "models" / "customer_totals.sql"
        model.write_text(model.read_text() + "-- edited\n")
        third = nightly_dbt()

        failing = PrefectDbtOrchestrator(
            settings=_settings(broken, root / "broken-profiles"),
            execution_mode=ExecutionMode.PER_NODE, retries=1, retry_delay_seconds=0,
            create_summary_artifact=False)

        @flow
        def broken_dbt():
            return failing.run_build()

        with pytest.raises(DbtBuildFailed) as failed:
            broken_dbt()
        broken_run = history.get_run(get_store(), _newest_flow_run_id())
    return SimpleNamespace(first=first, second=second, third=third, run=run,
                           failed=failed.value, broken_run=broken_run)


def _newest_flow_run_id() -> str:
    return history.list_runs(get_store(), kind="flow", limit=1)[0]["id"]


def test_every_node_of_the_project_succeeds_as_a_task_run_of_its_own(builds):
    assert _statuses(builds.first) == {
        "seed.raw_orders": "success", "model.orders": "success",
        "model.customer_totals": "success", "test.unique_orders_id": "success",
        "test.not_null_orders_id": "success", "test.unique_customer_totals_customer": "success"}
    orders = next(r for nid, r in builds.first.items() if _short(nid) == "model.orders")
    assert orders["invocation"] == {"command": "run", "args": ["model.shop.orders"]}
    assert orders["timing"]["duration_seconds"] > 0 and "execution_time" in orders["timing"]

    names = sorted(child["name"].rsplit("-", 1)[0] for child in builds.run["children"])
    assert names == ["model customer_totals", "model orders", "seed raw_orders",
                     "test not_null_orders_id", "test unique_customer_totals_customer",
                     "test unique_orders_id"]


def test_each_model_and_seed_run_records_the_table_it_wrote_and_what_it_read(builds):
    assets = {a["description"]: a["data"] for a in builds.run["artifacts"]
              if a["key"] == "dbt-asset"}

    assert sorted(key.rsplit("/", 1)[1] for key in assets) == [
        "customer_totals", "orders", "raw_orders"]
    orders = next(data for key, data in assets.items() if key.endswith("/orders"))
    assert orders.startswith("## shop.main.orders") and "main/raw_orders`" in orders


def test_an_unchanged_second_build_is_served_from_the_cache_except_tests(builds):
    assert _statuses(builds.second) == {
        "seed.raw_orders": "cached", "model.orders": "cached",
        "model.customer_totals": "cached", "test.unique_orders_id": "success",
        "test.not_null_orders_id": "success", "test.unique_customer_totals_customer": "success"}


def test_editing_a_model_file_runs_that_model_again_and_keeps_its_parents_cached(builds):
    statuses = _statuses(builds.third)
    assert statuses["model.customer_totals"] == "success"
    assert statuses["model.orders"] == "cached" and statuses["seed.raw_orders"] == "cached"


def test_a_failing_model_is_retried_then_skips_what_is_below_it(builds):
    results = builds.failed.results
    statuses = _statuses(results)
    assert statuses["model.broken_model"] == "error"
    assert statuses["model.after_broken"] == "skipped"
    after = next(r for nid, r in results.items() if _short(nid) == "model.after_broken")
    assert after["failed_upstream"] == ["model.shop.broken_model"]
    assert after["reason"] == "upstream failure"
    broken = next(r for nid, r in results.items() if _short(nid) == "model.broken_model")
    assert "no_such_column" in broken["error"]["message"]
    # The failing test makes customer_totals wait for it (TestStrategy.IMMEDIATE): skipped.
    assert statuses["test.exactly_one_order"] == "error"
    assert statuses["model.customer_totals"] == "skipped"

    runs = {c["name"].rsplit("-", 1)[0]: c for c in builds.broken_run["children"]}
    assert runs["model broken_model"]["attempts"] == 2
    assert runs["model broken_model"]["state_name"] == "Failed"
    assert "model after_broken" not in runs


# -- a stand-in executor: scheduling and limits, without dbt ---------------------------------

class _TimedExecutor:
    """Runs each node by sleeping; remembers when each started and ended, and how many ran
    at once at most."""

    def __init__(self, seconds: dict[str, float] | None = None, fail: set[str] = frozenset()):
        self.seconds, self.fail = seconds or {}, fail
        self.started: dict[str, float] = {}
        self.calls: list[str] = []
        self.ended: dict[str, float] = {}
        self.running = self.most = 0
        self._lock = threading.Lock()

    def execute_node(self, node, command, full_refresh=False, target=None,
                     extra_cli_args=None):
        with self._lock:
            self.calls.append(node.unique_id)
            self.started[node.unique_id] = time.monotonic()
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds.get(node.name, 0.05))
        with self._lock:
            self.running -= 1
            self.ended[node.unique_id] = time.monotonic()
        ok = node.name not in self.fail
        return ExecutionResult(ok, [node.unique_id], None if ok else RuntimeError("boom"))


def _manifest(folder: Path, edges: dict[str, list[str]]) -> Path:
    import json

    nodes = {f"model.p.{name}": {"name": name, "resource_type": "model",
                                 "depends_on": {"nodes": [f"model.p.{p}" for p in parents]},
                                 "config": {"materialized": "table"}}
             for name, parents in edges.items()}
    path = folder / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes, "sources": {}}))
    return path


def _orchestrator(tmp_path: Path, edges: dict[str, list[str]], executor, **options):
    return PrefectDbtOrchestrator(
        settings=PrefectDbtSettings(project_dir=tmp_path, profiles_dir=tmp_path),
        manifest_path=_manifest(tmp_path, edges), executor=executor,
        execution_mode=ExecutionMode.PER_NODE, create_summary_artifact=False, **options)


FOUR_INDEPENDENT = {"a": [], "b": [], "c": [], "d": []}


def test_an_int_concurrency_caps_how_many_nodes_run_at_once(tmp_path, block_home):
    executor = _TimedExecutor()
    results = flow(_orchestrator(tmp_path, FOUR_INDEPENDENT, executor, concurrency=2)
                   .run_build)()

    assert {r["status"] for r in results.values()} == {"success"}
    assert executor.most == 2


def test_a_named_concurrency_limit_holds_the_nodes_to_its_slots(tmp_path, block_home):
    from core_blocks.runtime.concurrency import set_limit

    set_limit(get_store(), "warehouse", 1)
    executor = _TimedExecutor()
    results = flow(_orchestrator(tmp_path, FOUR_INDEPENDENT, executor,
                                 concurrency="warehouse").run_build)()

    assert {r["status"] for r in results.values()} == {"success"}
    assert executor.most == 1


def test_a_missing_named_limit_is_refused_before_any_node_runs(tmp_path, block_home):
    executor = _TimedExecutor()
    orchestrator = _orchestrator(tmp_path, {"a": []}, executor, concurrency="nope",
                                 raise_on_failure=False)
    with pytest.raises(ValueError, match="blocks concurrency set nope N"):
        flow(orchestrator.run_build)()
    assert executor.started == {}


def test_a_node_starts_as_soon_as_its_own_parents_finish(tmp_path, block_home):
    # slow -> after_slow and fast -> after_fast: after_fast must not wait for slow.
    executor = _TimedExecutor(seconds={"slow": 0.4})
    edges = {"slow": [], "fast": [], "after_slow": ["slow"], "after_fast": ["fast"]}
    flow(_orchestrator(tmp_path, edges, executor).run_build)()

    assert executor.ended["model.p.after_fast"] < executor.ended["model.p.slow"]
    assert executor.started["model.p.after_slow"] >= executor.ended["model.p.slow"]


def test_a_failed_parent_skips_its_children_transitively_and_spares_the_rest(tmp_path,
                                                                             block_home):
    executor = _TimedExecutor(fail={"a"})
    results = flow(_orchestrator(tmp_path, {"a": [], "b": ["a"], "c": ["b"], "d": []},
                                 executor, raise_on_failure=False).run_build)()

    assert _statuses(results) == {"model.a": "error", "model.b": "skipped",
                                  "model.c": "skipped", "model.d": "success"}
    assert results["model.p.c"]["failed_upstream"] == ["model.p.b"]
    assert set(executor.started) == {"model.p.a", "model.p.d"}


def test_retries_run_a_failing_node_again_after_the_delay(tmp_path, block_home):
    attempts = []

    class Flaky(_TimedExecutor):
        def execute_node(self, node, command, *args, **kwargs):
            attempts.append(time.monotonic())
            return ExecutionResult(len(attempts) > 1, [node.unique_id],
                                   None if len(attempts) > 1 else RuntimeError("transient"))

    results = flow(_orchestrator(tmp_path, {"a": []}, Flaky(), retries=2,
                                 retry_delay_seconds=0.2).run_build)()

    assert results["model.p.a"]["status"] == "success"
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 0.2


# -- task runners ----------------------------------------------------------------------------

def test_prefect_runner_classes_map_to_our_thread_pool_by_name(tmp_path):
    orchestrator = _orchestrator(tmp_path, {"a": []}, _TimedExecutor(), concurrency=3)
    process_pool = type("ProcessPoolTaskRunner", (), {})  # Prefect's, as a user passes it
    orchestrator._task_runner_type = process_pool

    from contextlib import ExitStack

    with ExitStack() as stack:
        runner = orchestrator._open_per_node_runner(largest_wave=1, stack=stack).runner
    assert type(runner) is ThreadPoolTaskRunner and runner.max_workers == 3


def test_the_max_workers_follow_concurrency_the_widest_wave_and_process_caps(tmp_path):
    orchestrator = _orchestrator(tmp_path, {"a": []}, _TimedExecutor())
    process_pool = type("ProcessPoolTaskRunner", (), {})
    workers = orchestrator._determine_per_node_max_workers

    assert workers(ThreadPoolTaskRunner, 500) == 500
    assert workers(process_pool, 10**6) <= 2 * (__import__("os").cpu_count() or 1)
    orchestrator._concurrency = 7
    assert workers(process_pool, 10**6) == 7


def test_a_task_runner_type_that_is_no_class_is_refused(tmp_path):
    orchestrator = _orchestrator(tmp_path, {"a": []}, _TimedExecutor(),
                                 task_runner_type="threads")
    with pytest.raises(TypeError, match="task_runner_type takes a task runner class"):
        flow(orchestrator.run_build)()


# -- cache keys and helpers ------------------------------------------------------------------

def test_a_node_key_follows_its_file_config_macros_and_upstream_keys(tmp_path):
    (tmp_path / "models").mkdir()
    sql = tmp_path / "models" / "m.sql"
    sql.write_text("select 1")
    node = DbtNode("model.p.m", "m", "model", original_file_path="models/m.sql",
                   config={"materialized": "table"})

    def key(**change):
        import dataclasses

        changed = dataclasses.replace(node, **change) if change else node
        return build_cache_policy_for_node(changed, tmp_path, False, {"model.p.up": "k1"}
                                           ).compute_key()

    before = key()
    assert key() == before
    assert key(config={"materialized": "view"}) != before
    assert key(depends_on_macros=("macro.p.x",)) != before
    assert build_cache_policy_for_node(node, tmp_path, False, {"model.p.up": "k2"}
                                       ).compute_key() != before
    assert build_cache_policy_for_node(node, tmp_path, True, {"model.p.up": "k1"}
                                       ).compute_key() != before
    sql.write_text("select 2")
    assert key() != before


def test_a_cache_policy_pickles_and_ignores_the_task_context():
    policy = DbtNodeCachePolicy(node_unique_id="model.p.m", file_content_hash="ab")
    assert pickle.loads(pickle.dumps(policy)).compute_key() == policy.compute_key()
    assert policy(object(), {"node": 1}) == policy.compute_key()


def test_a_node_error_survives_pickling_with_its_details():
    error = _DbtNodeError(ExecutionResult(False, ["model.p.m"], RuntimeError("bad sql")),
                          {"duration_seconds": 1.0}, {"command": "run"})
    restored = pickle.loads(pickle.dumps(error))
    assert str(restored) == "bad sql" and restored.invocation == {"command": "run"}


def test_the_global_log_dedupe_drops_repeats_of_a_flow_runs_dbt_lines():
    processor = _dbt_global_log_dedupe_processor_factory()
    line = {"flow_run_id": "f", "name": "prefect.task_runs.dbt_orchestrator_global",
            "level": 20, "message": "Running with dbt=1.11"}
    assert processor("log", line) == ("log", line)
    assert processor("log", {**line, "task_run_id": "t2"}) is None
    other = {**line, "name": "prefect.task_runs"}
    assert processor("log", other) == processor("log", other) == ("log", other)


def test_cache_options_in_prefects_terms_are_taken_as_ours(tmp_path, block_home):
    class PrefectStyle(PrefectDbtOrchestrator):
        def _build_cache_options_for_node(self, node, *args, **kwargs):
            return {"cache_policy": DbtNodeCachePolicy(node_unique_id=node.unique_id),
                    "persist_result": True}

    executor = _TimedExecutor()
    orchestrator = PrefectStyle(
        settings=PrefectDbtSettings(project_dir=tmp_path, profiles_dir=tmp_path),
        manifest_path=_manifest(tmp_path, {"a": []}), executor=executor,
        execution_mode=ExecutionMode.PER_NODE, create_summary_artifact=False,
        cache=CacheConfig(result_storage=tmp_path / "cache"))
    statuses = [flow(orchestrator.run_build)()["model.p.a"]["status"] for _ in range(2)]

    assert statuses == ["success", "cached"] and executor.calls == ["model.p.a"]


def test_the_execution_state_lives_in_a_saved_storage_block_named_by_its_slug(tmp_path,
                                                                              block_home):
    from core_blocks import LocalFileSystem

    LocalFileSystem(basepath=str(tmp_path / "keys")).save("dbt-keys")
    cache = CacheConfig(key_storage="local-file-system/dbt-keys",
                        result_storage=tmp_path / "results")
    orchestrator = _orchestrator(tmp_path, {"a": [], "b": ["a"]}, _TimedExecutor(),
                                 cache=cache)
    flow(orchestrator.run_build)()

    state = orchestrator._load_execution_state()
    assert set(state) == {"model.p.a", "model.p.b"}
    assert (tmp_path / "keys" / ".execution_state.json").exists()
