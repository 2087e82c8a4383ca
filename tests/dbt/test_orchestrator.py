"""PrefectDbtOrchestrator on real dbt-duckdb in PER_WAVE mode: the plan per TestStrategy, a
build within a flow (each wave a task run, the summary artifact, run_results.json), a
selection, a failing node raising DbtBuildFailed, and a profile password from a Secret block
that reaches none of the results, artifacts, run history or error text."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from types import SimpleNamespace

import pytest

from core_blocks import Secret, flow
from core_blocks.runtime import history
from core_blocks.store import get_store
from core_blocks.testing.isolation import isolated_home
from prefect_dbt import PrefectDbtSettings
from prefect_dbt.core._executor import ExecutionResult
from prefect_dbt.core._manifest import DbtNode
from prefect_dbt.core._orchestrator import (
    BuildPlan,
    DbtBuildFailed,
    PrefectDbtOrchestrator,
    TestStrategy,
    _validate_extra_cli_args,
)
from tests.dbt.project import write_project

# The password comes from a saved Secret block, as Prefect's profiles.yml templating does;
# dbt-duckdb keeps the extra field and never uses it.
PROFILE = """shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "%s"
      threads: 2
      password: "{{ prefect.blocks.secret.warehouse-password.value }}"
"""
IMMEDIATE_WAVES = [["seed.raw_orders"], ["model.orders"],
                   ["test.not_null_orders_id", "test.unique_orders_id"],
                   ["model.customer_totals"], ["test.unique_customer_totals_customer"]]


def _short(unique_id: str) -> str:
    """'test.shop.unique_orders_id.6b4f' -> 'test.unique_orders_id'."""
    kind, _, name = unique_id.split(".")[:3]
    return f"{kind}.{name}"


def _waves(plan: BuildPlan) -> list[list[str]]:
    return [sorted(_short(n.unique_id) for n in wave.nodes) for wave in plan.waves]


def _settings(project: Path, folder: Path) -> PrefectDbtSettings:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(PROFILE % (folder / "shop.duckdb"))
    return PrefectDbtSettings(project_dir=project, profiles_dir=folder)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """Everything the shop project's builds leave behind, gathered within one block home (a
    Secret block holds the profile's password): a full build within a flow, then a
    selection, then the broken project's build."""
    canary = f"canary-{secrets.token_hex(12)}"
    root = tmp_path_factory.mktemp("orchestrated")
    project = write_project(root / "shop")
    broken = write_project(root / "broken", broken=True)
    with isolated_home(root / "home") as home:
        Secret(value=canary).save("warehouse-password")
        settings = _settings(project, root / "profiles")
        orchestrator = PrefectDbtOrchestrator(settings=settings, write_run_results=True)
        hooks: list[tuple] = []
        orchestrator.on_run_start(lambda ctx: hooks.append(("start", len(ctx.node_ids))))
        orchestrator.post_model(lambda ctx: hooks.append((ctx.node.name, ctx.status)))
        orchestrator.on_run_end(lambda ctx: hooks.append(("end", ctx.status)))

        @flow
        def nightly_dbt():
            return orchestrator.run_build()

        results = nightly_dbt()
        full_build_hooks = list(hooks)
        run_results = json.loads((project / "target" / "run_results.json").read_text())
        [run] = history.list_runs(get_store(), kind="flow", limit=5)
        run = history.get_run(get_store(), run["id"])
        selected = orchestrator.run_build(select="customer_totals")
        failing = PrefectDbtOrchestrator(settings=_settings(broken, root / "broken-profiles"))
        failing.on_run_end(lambda ctx: hooks.append(("failed end", ctx.status)))
        with pytest.raises(DbtBuildFailed) as failed:
            failing.run_build()
        history.flush()
        stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    return SimpleNamespace(canary=canary, project=project, settings=settings, results=results,
                           run=run, selected=selected, failed=failed.value, stored=stored,
                           run_results=run_results, hooks=full_build_hooks,
                           failed_hooks=hooks[len(full_build_hooks):])


def test_the_plan_places_each_test_after_its_model_and_before_what_is_downstream(shop):
    plan = PrefectDbtOrchestrator(settings=shop.settings).plan()

    assert _waves(plan) == IMMEDIATE_WAVES
    assert plan.node_count == 6 and plan.estimated_parallelism == 2
    assert plan.cache_predictions is None and plan.skipped_nodes == {}
    assert "6 node(s) in 5 wave(s)" in str(plan) and "[model, table]" not in str(plan)


def test_deferred_tests_run_after_every_model_and_skip_leaves_them_out(shop):
    manifest = shop.project / "target" / "manifest.json"

    def plan(strategy):
        return _waves(PrefectDbtOrchestrator(settings=shop.settings, manifest_path=manifest,
                                             test_strategy=strategy).plan())

    assert plan(TestStrategy.DEFERRED) == [
        ["seed.raw_orders"], ["model.orders"], ["model.customer_totals"],
        ["test.not_null_orders_id", "test.unique_customer_totals_customer",
         "test.unique_orders_id"]]
    assert plan(TestStrategy.SKIP) == [["seed.raw_orders"], ["model.orders"],
                                       ["model.customer_totals"]]


def test_a_build_in_a_flow_gives_every_node_a_result_and_each_wave_a_task_run(shop):
    assert {_short(n): r["status"] for n, r in shop.results.items()} == {
        name: "success" for wave in IMMEDIATE_WAVES for name in wave}
    orders = next(r for n, r in shop.results.items() if _short(n) == "model.orders")
    assert orders["invocation"]["command"] == "build"
    assert orders["timing"]["duration_seconds"] > 0 and "execution_time" in orders["timing"]

    assert shop.run["state_name"] == "Completed"
    waves = sorted(child["name"].rsplit("-", 1)[0] for child in shop.run["children"])
    assert waves == [f"dbt wave {n}" for n in range(5)]
    [summary] = [a for a in shop.run["artifacts"] if a["key"] == "dbt-orchestrator-summary"]
    assert "| 6 " in summary["data"] and "* customer_totals" in summary["data"]
    assert summary["description"] == "dbt build: 6 success"
    assert {r["unique_id"] for r in shop.run_results["results"]} == set(shop.results)


def test_hooks_hear_the_start_each_model_and_the_end(shop):
    assert shop.hooks == [("start", 3), ("orders", "success"), ("customer_totals", "success"),
                          ("end", "success")]
    assert shop.failed_hooks[-1] == ("failed end", "error")


def test_a_selection_runs_only_the_selected_model_and_its_tests(shop):
    assert sorted(map(_short, shop.selected)) == ["model.customer_totals",
                                                  "test.unique_customer_totals_customer"]
    assert all(r["status"] == "success" for r in shop.selected.values())


def test_a_failing_model_raises_dbt_build_failed_and_skips_what_follows(shop):
    failed = shop.failed
    assert failed.failed_node_ids == ["model.shop.broken_model"]
    assert str(failed) == "dbt build failed for 1 node(s): model.shop.broken_model"
    error = failed.results["model.shop.broken_model"]["error"]
    assert "no_such_column" in error["message"]
    assert failed.results["model.shop.orders"]["status"] == "success"  # same wave, passed
    skipped = {_short(n) for n in failed.skipped_node_ids}
    assert {"model.customer_totals", "test.exactly_one_order"} <= skipped
    for node_id in failed.skipped_node_ids:
        assert failed.results[node_id]["failed_upstream"] == ["model.shop.broken_model"]


def test_the_profile_password_is_nowhere_in_results_artifacts_history_or_errors(shop):
    canary = shop.canary
    texts = [json.dumps(shop.results), json.dumps(shop.selected), json.dumps(shop.run,
             default=str), json.dumps(shop.failed.results), str(shop.failed)]
    assert not [t for t in texts if canary in t]
    assert canary.encode() not in shop.stored  # the block's own secret is encrypted there
    for path in shop.project.rglob("*"):  # dbt's logs and target/ artifacts
        assert path.is_dir() or canary.encode() not in path.read_bytes(), path


def test_a_known_secret_in_dbt_s_error_message_is_masked_in_the_node_result(shop, canary):
    Secret(value=canary).save("warehouse-password")
    Secret.load("warehouse-password").get()  # read, as resolving profiles.yml does
    node = DbtNode("model.shop.orders", "orders", "model")
    wave = ExecutionResult(success=False, node_ids=[node.unique_id], error=RuntimeError("x"),
                           artifacts={node.unique_id: {"status": "error",
                                                       "message": f"LINE 1: '{canary}'"}})

    orchestrator = PrefectDbtOrchestrator(settings=shop.settings)
    result = orchestrator._wave_node_result(node, wave, {}, {})

    assert result["status"] == "error" and canary not in result["error"]["message"]
    assert result["error"]["message"].startswith("LINE 1: '")


@pytest.mark.parametrize("args, named", [
    (["--select", "orders"], "'--select' via extra_cli_args: "),
    (["-s", "orders"], "'--select' via extra_cli_args: "),
    (["--profiles-dir=/elsewhere"], "'--profiles-dir'"),
    (["-t", "prod"], "run_build(target='...')"),
    (["--threads", "8"], "DbtCoreExecutor(threads=N)"),
])
def test_extra_cli_args_refuse_flags_the_orchestrator_owns(args, named):
    with pytest.raises(ValueError, match="Cannot pass") as caught:
        _validate_extra_cli_args(["--store-failures", *args])
    assert named in str(caught.value)


def test_run_build_refuses_an_owned_flag_before_running_anything(shop, tmp_path):
    orchestrator = PrefectDbtOrchestrator(settings=shop.settings,
                                          manifest_path=tmp_path / "never-read.json")
    with pytest.raises(ValueError, match="Cannot pass '--exclude'"):
        orchestrator.run_build(extra_cli_args=["--exclude=orders"])


def test_extra_cli_args_warn_about_flags_with_a_caveat(caplog):
    _validate_extra_cli_args(["--store-failures", "--vars", "{a: 1}"])
    assert not caplog.records
    _validate_extra_cli_args(["--fail-fast"])
    assert "'--fail-fast'" in caplog.text


def test_the_constructor_refuses_per_node_options_in_per_wave_mode_and_unknown_modes(shop):
    with pytest.raises(ValueError, match="only supported in PER_NODE"):
        PrefectDbtOrchestrator(settings=shop.settings, retries=2)
    with pytest.raises(ValueError, match="Invalid test_strategy 'sometimes'"):
        PrefectDbtOrchestrator(settings=shop.settings, test_strategy="sometimes")
