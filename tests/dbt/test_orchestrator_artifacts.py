"""What the orchestrator leaves behind (summary, run_results.json, assets with lineage and
compiled SQL) and the hooks users register, on a shop project compiled by real dbt-duckdb."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from core_blocks import Secret
from prefect_dbt.core._artifacts import (
    ASSET_NODE_TYPES,
    MAX_ASSET_DESCRIPTION_LENGTH,
    Asset,
    AssetProperties,
    create_asset_for_node,
    create_run_results_dict,
    create_summary_markdown,
    get_compiled_code_for_node,
    get_upstream_assets_for_node,
    write_run_results_json,
)
from prefect_dbt.core._hooks import DbtHookContext, DbtHookMixin
from tests.dbt.project import write_project

# The shop project plus an ephemeral model over the source and a described, owned, tagged
# table over that: lineage must look through the ephemeral model to the source.
EXTRA_FILES = {
    "models/landing_orders.sql": (
        "{{ config(materialized='ephemeral') }}\n"
        "select * from {{ source('landing', 'raw_orders') }}\n"),
    "models/big_orders.sql": (
        "{{ config(materialized='table', tags=['finance'], meta={'owner': 'finance-team'}) }}\n"
        "select * from {{ ref('landing_orders') }} where amount > 5\n"),
    "models/big_orders.yml": (
        "version: 2\nmodels:\n  - name: big_orders\n    description: Orders over five.\n"),
}
PROFILES = "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {}\n"
RESULTS = {
    "model.shop.orders": {"status": "success", "timing": {
        "started_at": "2026-01-15T10:30:00+00:00", "completed_at": "2026-01-15T10:30:05+00:00",
        "duration_seconds": 5.0}},
    "model.shop.customer_totals": {"status": "error", "error": {
        "message": 'Database error: relation "orders" does not exist\nLINE 2: from orders',
        "type": "DatabaseError"}},
    "model.shop.big_orders": {"status": "skipped", "reason": "upstream failure"},
    "seed.shop.raw_orders": {"status": "cached"},
}


def _key(relation_name: str) -> str:
    """The asset key of a DuckDB relation: `"shop"."main"."orders"` -> duckdb://shop/main/orders."""
    return "duckdb://" + relation_name.replace('"', "").replace(".", "/")


@pytest.fixture(scope="module")
def compiled_shop(tmp_path_factory):
    """(project dir, profiles dir, ManifestParser) of the shop project after `dbt compile`."""
    from dbt.cli.main import dbtRunner

    from prefect_dbt.core._manifest import ManifestParser

    project = write_project(tmp_path_factory.mktemp("shop"))
    for name, text in EXTRA_FILES.items():
        (project / name).write_text(text)
    profiles = tmp_path_factory.mktemp("profiles")
    (profiles / "profiles.yml").write_text(PROFILES.format(profiles / "shop.duckdb"))
    result = dbtRunner().invoke(["compile", "--project-dir", str(project), "--profiles-dir",
                                 str(profiles), "--log-level", "none"])
    assert result.success, result.exception
    return project, profiles, ManifestParser(project / "target" / "manifest.json")


@pytest.fixture
def known_secret(block_home, canary):
    """A secret value this process has read from a secret backend, as a profile would."""
    Secret(value=canary).save("warehouse-password")
    return Secret.load("warehouse-password").get()


# -- summary and run_results.json ---------------------------------------------------------------


def test_the_summary_counts_cached_nodes_as_successes_and_lists_each_outcome():
    md = create_summary_markdown(RESULTS)

    assert md.startswith("## dbt build Task Summary\n")
    assert "| 2 | 1 | 1 | 4 |" in md
    assert "**customer_totals**\n\nType: model\n\nMessage:\n\n" in md
    # Every line of a multi-line message stays inside the quote.
    assert '> Database error: relation "orders" does not exist\n> LINE 2: from orders' in md
    assert "### Skipped Nodes\n\n* big_orders (upstream failure)" in md
    assert "### Successful Nodes\n\n* orders\n* raw_orders\n" in md


def test_an_all_green_or_empty_summary_has_only_the_sections_it_needs():
    empty = create_summary_markdown({})
    green = create_summary_markdown({"model.shop.orders": {"status": "success"}})

    assert "| 0 | 0 | 0 | 0 |" in empty and "###" not in empty
    assert "| 1 | 0 | 0 | 1 |" in green
    assert "### Unsuccessful" not in green and "### Skipped" not in green


def test_run_results_have_dbts_shape_and_map_our_statuses():
    import dbt.version

    data = create_run_results_dict(RESULTS, elapsed_time=8.5)
    by_id = {r["unique_id"]: r for r in data["results"]}

    assert data["metadata"]["dbt_version"] == dbt.version.__version__
    assert data["metadata"]["dbt_schema_version"].endswith("/run-results/v6.json")
    assert data["elapsed_time"] == 8.5 and data["args"] == {}
    assert by_id["model.shop.orders"]["timing"] == [{
        "name": "execute", "started_at": "2026-01-15T10:30:00+00:00",
        "completed_at": "2026-01-15T10:30:05+00:00"}]
    assert by_id["model.shop.orders"]["execution_time"] == 5.0
    assert by_id["model.shop.orders"]["message"] == "OK"
    assert by_id["seed.shop.raw_orders"]["status"] == "success"  # cached
    assert by_id["model.shop.big_orders"]["timing"] == []  # skipped: never started
    assert by_id["model.shop.customer_totals"]["message"].startswith("Database error")


def test_dbt_reads_the_run_results_json_written(tmp_path):
    from dbt.artifacts.schemas.run import RunResultsArtifact

    path = write_run_results_json(RESULTS, 8.5, tmp_path / "new" / "target")

    assert path == tmp_path / "new" / "target" / "run_results.json"
    artifact = RunResultsArtifact.read_and_check_versions(str(path))
    assert {r.unique_id: str(r.status) for r in artifact.results} == {
        "model.shop.orders": "success", "model.shop.customer_totals": "error",
        "model.shop.big_orders": "skipped", "seed.shop.raw_orders": "success"}


def test_secrets_in_error_messages_reach_neither_the_summary_nor_run_results(
        known_secret, tmp_path):
    results = {"model.shop.orders": {"status": "error", "error": {
        "message": f"could not connect: password={known_secret} rejected"}}}

    md = create_summary_markdown(results)
    path = write_run_results_json(results, 1.0, tmp_path)

    assert known_secret not in md and "password=**********" in md
    assert known_secret not in path.read_text()


# -- assets -------------------------------------------------------------------------------------


def test_assets_are_frozen_hash_by_key_and_leave_unset_properties_out():
    asset = Asset(key="duckdb://shop/main/orders", properties=AssetProperties(name="orders"))

    assert asset == Asset(key="duckdb://shop/main/orders",
                          properties=AssetProperties(name="orders"))
    assert hash(asset) == hash("duckdb://shop/main/orders")
    assert asset.properties.model_dump(exclude_unset=True) == {"name": "orders"}
    with pytest.raises(ValidationError):
        asset.key = "duckdb://elsewhere"  # type: ignore[misc]


@pytest.mark.parametrize(("key", "message"), [
    ("orders", "is not URI-like; write it as '<lower-case scheme>://<path>'"),
    ("duckdb://shop/main orders", "holds ' '; remove them"),
    ("duckdb://" + "x" * 600, "characters long; shorten it to 512"),
])
def test_a_bad_asset_key_says_how_to_write_one(key, message):
    with pytest.raises(ValidationError, match=message):
        Asset(key=key)


def test_a_models_asset_comes_from_its_relation_description_and_owner(compiled_shop):
    _, _, manifest = compiled_shop
    node = manifest.all_nodes["model.shop.big_orders"]

    asset = create_asset_for_node(node, manifest.adapter_type, description_suffix="\n+ SQL")

    assert manifest.adapter_type == "duckdb"
    assert asset.key == _key(node.relation_name)
    assert asset.properties.name == node.relation_name.replace('"', "")
    assert asset.properties.description == "Orders over five.\n+ SQL"
    assert asset.properties.owners == ["finance-team"]


def test_an_undescribed_unowned_model_has_neither_in_its_asset(compiled_shop):
    _, _, manifest = compiled_shop

    asset = create_asset_for_node(manifest.all_nodes["model.shop.orders"], "duckdb")

    assert asset.properties.model_dump(exclude_unset=True) == {
        "name": asset.properties.name}


def test_a_description_too_long_drops_the_suffix_then_is_cut(compiled_shop):
    from dataclasses import replace

    _, _, manifest = compiled_shop
    node = manifest.all_nodes["model.shop.big_orders"]
    long_node = replace(node, description="d" * (MAX_ASSET_DESCRIPTION_LENGTH + 1))

    dropped = create_asset_for_node(node, "duckdb", "s" * MAX_ASSET_DESCRIPTION_LENGTH)
    cut = create_asset_for_node(long_node, "duckdb")

    assert dropped.properties.description == "Orders over five."
    assert cut.properties.description == "d" * MAX_ASSET_DESCRIPTION_LENGTH


def test_an_ephemeral_model_has_no_asset(compiled_shop):
    _, _, manifest = compiled_shop

    with pytest.raises(ValueError, match="landing_orders has no relation_name"):
        create_asset_for_node(manifest.all_nodes["model.shop.landing_orders"], "duckdb")


def test_lineage_names_the_models_and_seeds_a_model_reads(compiled_shop):
    _, _, manifest = compiled_shop
    nodes = manifest.all_nodes

    totals = get_upstream_assets_for_node(nodes["model.shop.customer_totals"], nodes, "duckdb")
    orders = get_upstream_assets_for_node(nodes["model.shop.orders"], nodes, "duckdb")

    assert [a.key for a in totals] == [create_asset_for_node(nodes["model.shop.orders"],
                                                             "duckdb").key]
    assert [a.properties.name for a in totals] == ["orders"]
    assert [a.properties.name for a in orders] == ["raw_orders"]
    assert get_upstream_assets_for_node(nodes["seed.shop.raw_orders"], nodes, "duckdb") == []


def test_lineage_looks_through_ephemeral_models_to_the_source(compiled_shop):
    _, _, manifest = compiled_shop
    nodes = manifest.all_nodes
    # As the orchestrator holds it: dependency resolution removed the ephemeral model.
    resolved = manifest.get_executable_nodes()["model.shop.big_orders"]

    assets = get_upstream_assets_for_node(resolved, nodes, "duckdb")

    source = nodes["source.shop.landing.raw_orders"]
    assert [(a.key, a.properties.name) for a in assets] == [
        (_key(source.relation_name), "raw_orders")]


def test_compiled_sql_comes_from_the_files_dbt_compile_wrote(compiled_shop):
    project, _, manifest = compiled_shop
    node = manifest.all_nodes["model.shop.customer_totals"]

    section = get_compiled_code_for_node(node, project, Path("target"), manifest.project_name)

    assert section.startswith("\n### Compiled code\n```sql\nselect customer")
    assert section.endswith("group by customer\n```")
    assert "ref(" not in section and '"main"."orders"' in section


def test_compiled_sql_in_the_node_wins_and_too_much_sql_becomes_a_note(tmp_path):
    from prefect_dbt.core._manifest import DbtNode

    node = DbtNode("model.shop.orders", "orders", "model", compiled_code="  select 1  ",
                   original_file_path="models/orders.sql")
    huge = DbtNode("model.shop.orders", "orders", "model",
                   compiled_code="x" * MAX_ASSET_DESCRIPTION_LENGTH)
    nothing = DbtNode("model.shop.orders", "orders", "model",
                      original_file_path="models/orders.sql")

    assert get_compiled_code_for_node(node, tmp_path, Path("target"), "shop") == (
        "\n### Compiled code\n```sql\nselect 1\n```")
    assert "omitted because it exceeded" in get_compiled_code_for_node(
        huge, tmp_path, Path("target"), "shop")
    assert get_compiled_code_for_node(nothing, tmp_path, Path("target"), "shop") == ""


def test_asset_node_types_are_what_writes_a_database_object():
    from dbt.node_types import NodeType

    assert {NodeType.Model, NodeType.Seed, NodeType.Snapshot} <= ASSET_NODE_TYPES
    assert NodeType.Test not in ASSET_NODE_TYPES and NodeType.Source not in ASSET_NODE_TYPES


# -- hooks --------------------------------------------------------------------------------------


class Build(DbtHookMixin):
    """The smallest owner of hooks: what the runner and the orchestrator do."""

    def __init__(self) -> None:
        self._initialize_dbt_hooks()

    def finish(self, node_id: str, cache: dict[str, set[str]] | None = None) -> None:
        node = type("Node", (), {"unique_id": node_id})()
        self._run_dbt_hooks("post_model", DbtHookContext(
            "post_model", "build", self, node=node, status="success"), selection_cache=cache)


def test_decorators_register_hooks_with_or_without_a_selector():
    build = Build()
    assert not build._has_dbt_hooks()

    @build.on_run_start
    def before(ctx): ...

    @build.on_run_end(select="tag:finance")
    def after(ctx): ...

    @build.post_model()
    def each(ctx): ...

    assert before is not None and build._has_dbt_hooks()
    assert [(h.callback, h.select) for hooks in build._dbt_hooks.values() for h in hooks] == [
        (before, None), (after, "tag:finance"), (each, None)]


@pytest.mark.parametrize(("register", "error", "message"), [
    (lambda b: b.on_run_start(select="tag:x"), TypeError, "unexpected keyword argument"),
    (lambda b: b.post_model("tag:x"), TypeError, r"keyword argument: @post_model\(select="),
    (lambda b: b.on_run_end(select=""), ValueError, "takes a dbt selector such as"),
    (lambda b: b.post_model(42), TypeError, "function taking a DbtHookContext; got int"),
])
def test_a_misused_decorator_says_how_to_use_it(register, error, message):
    with pytest.raises(error, match=message):
        register(Build())


def test_selected_hooks_run_for_the_nodes_their_selector_picks():
    build, seen = Build(), []
    build.post_model(lambda ctx: seen.append(("all", ctx.node_id)))
    build.post_model(select="tag:finance")(lambda ctx: seen.append(("finance", ctx.node_id)))
    cache = {"tag:finance": {"model.shop.big_orders"}}

    build.finish("model.shop.orders", cache)
    build.finish("model.shop.big_orders", cache)
    build.finish("model.shop.big_orders")  # no cache: a selector picks nothing

    assert seen == [("all", "model.shop.orders"), ("all", "model.shop.big_orders"),
                    ("finance", "model.shop.big_orders"), ("all", "model.shop.big_orders")]


def test_run_end_hooks_with_a_selector_run_when_the_run_held_a_selected_node():
    build, seen = Build(), []
    build.on_run_end(select="tag:finance")(lambda ctx: seen.append(ctx.node_ids))
    cache = {"tag:finance": {"model.shop.big_orders"}}

    for node_ids in [("model.shop.orders",), ("model.shop.orders", "model.shop.big_orders"),
                     ()]:
        build._run_dbt_hooks("run_end", DbtHookContext(
            "run_end", "build", build, status="success", node_ids=node_ids),
            selection_cache=cache)

    assert seen == [("model.shop.orders", "model.shop.big_orders"), ()]


def test_a_failing_hook_is_logged_without_secrets_and_the_next_one_runs(known_secret, caplog):
    build, seen = Build(), []

    @build.post_model
    def leaky(ctx):
        raise RuntimeError(f"cannot reach warehouse with {known_secret}")

    build.post_model(lambda ctx: seen.append(ctx.node_id))
    with caplog.at_level(logging.WARNING, logger="prefect_dbt.core._hooks"):
        build.finish("model.shop.orders")

    assert seen == ["model.shop.orders"]
    [record] = caplog.records
    assert record.getMessage().startswith("dbt hook leaky failed during post_model.\n")
    assert "RuntimeError: cannot reach warehouse with **********" in record.getMessage()
    assert known_secret not in caplog.text and record.exc_info is None


def test_async_hooks_run_to_their_end_even_inside_a_running_loop():
    build, seen = Build(), []

    @build.post_model
    async def note(ctx):
        await asyncio.sleep(0)
        seen.append(ctx.node_id)

    build.finish("model.shop.orders")

    async def from_async_code():
        build.finish("model.shop.big_orders")

    asyncio.run(from_async_code())
    assert seen == ["model.shop.orders", "model.shop.big_orders"]


def test_hook_selectors_are_resolved_by_dbt_and_a_bad_one_selects_nothing(compiled_shop,
                                                                         caplog):
    project, profiles, _ = compiled_shop
    build = Build()
    build.post_model(select="tag:finance")(print)
    build.on_run_end(select="tag:finance")(print)
    build.post_model(select="bogus_method:x")(print)

    with caplog.at_level(logging.WARNING, logger="prefect_dbt.core._hooks"):
        cache = build._build_dbt_hook_selection_cache(project_dir=project,
                                                      profiles_dir=profiles)

    assert cache == {"tag:finance": {"model.shop.big_orders"}, "bogus_method:x": set()}
    assert "Failed to resolve dbt hook selector 'bogus_method:x'" in caplog.text
    assert "'bogus_method' is not a valid method name" in caplog.text


def test_write_whole_replaces_a_file_at_once_and_leaves_no_temporary(tmp_path, monkeypatch):
    import os

    from prefect_dbt.core._artifacts import write_whole

    path = tmp_path / "run_results.json"
    path.write_bytes(b"old")
    write_whole(path, b"new")
    assert path.read_bytes() == b"new"

    def broken_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_whole(path, b"half")
    assert path.read_bytes() == b"new"  # the old content stays whole
    assert [p.name for p in tmp_path.iterdir()] == ["run_results.json"]
