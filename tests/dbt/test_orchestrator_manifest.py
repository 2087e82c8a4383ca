"""prefect_dbt.core._manifest: nodes, dependencies through ephemeral models and execution
waves on a hand-written manifest; resolve_selection and the parser on the shop project, with
real dbt on DuckDB."""

from __future__ import annotations

import json
import logging

import pytest
from dbt.node_types import NodeType

from core_blocks import Secret
from prefect_dbt.core._manifest import (
    DbtLsError,
    DbtNode,
    ExecutionWave,
    ManifestParser,
    create_dbt_node_from_manifest_data,
    create_dbt_source_node_from_manifest_data,
    resolve_selection,
)


def _model(name, *deps, materialized="table", resource_type="model"):
    return {"name": name, "resource_type": resource_type, "config": {"materialized": materialized},
            "depends_on": {"nodes": list(deps), "macros": ["macro.shop.cents"]},
            "original_file_path": f"models/{name}.sql", "fqn": ["shop", name]}


# raw (source) -> base (seed) -> staged (ephemeral) -> left, right -> wide; plus tests.
MANIFEST = {
    "metadata": {"adapter_type": "duckdb", "project_name": "shop"},
    "nodes": {
        "seed.shop.base": _model("base", resource_type="seed"),
        "model.shop.staged": _model("staged", "seed.shop.base", "source.shop.landing.raw",
                                    materialized="ephemeral"),
        "model.shop.right": _model("right", "model.shop.staged"),
        "model.shop.left": _model("left", "model.shop.staged", "seed.shop.base"),
        "model.shop.wide": _model("wide", "model.shop.left", "model.shop.right"),
        "test.shop.unique_staged_id": _model("unique_staged_id", "model.shop.staged",
                                             resource_type="test", materialized="test"),
        "test.shop.left_matches_right": _model(
            "left_matches_right", "model.shop.left", "model.shop.right",
            resource_type="test", materialized="test"),
        "unit_test.shop.wide.adds_up": _model("adds_up", "model.shop.wide",
                                              resource_type="unit_test"),
    },
    "sources": {
        "source.shop.landing.raw": {"name": "raw", "resource_type": "source",
                                    "relation_name": '"landing"."raw"',
                                    "description": "Raw orders"},
    },
    "macros": {"macro.shop.cents": {"original_file_path": "macros/cents.sql"},
               "macro.dbt.run_query": {}},
}


@pytest.fixture
def parser(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST))
    return ManifestParser(path)


def _names(waves: list[ExecutionWave]) -> list[list[str]]:
    return [[node.name for node in wave.nodes] for wave in waves]


def test_a_node_knows_what_builds_it_and_how_to_select_it():
    model = create_dbt_node_from_manifest_data("model.shop.left",
                                               MANIFEST["nodes"]["model.shop.left"])
    staged = DbtNode.from_manifest("model.shop.staged", MANIFEST["nodes"]["model.shop.staged"])
    test = DbtNode("test.shop.t", "t", "test", fqn=("shop", "t"), original_file_path="m.yml")

    assert model.resource_type is NodeType.Model and model.is_executable
    assert model.dbt_selector == "path:models/left.sql"
    assert model.depends_on_macros == ("macro.shop.cents",) and model.fqn == ("shop", "left")
    assert staged.is_executable is False  # ephemeral: compiled into its children
    assert test.resource_type is NodeType.Test and test.dbt_selector == "shop.t"
    assert DbtNode("model.shop.x", "x", NodeType.Model).dbt_selector == "x"
    assert DbtNode("exposure.shop.x", "x", "exposure").is_executable is False


def test_nodes_hash_by_id_and_unknown_types_count_as_models():
    source = create_dbt_source_node_from_manifest_data("source.shop.l.raw", {"name": "raw"})
    odd = DbtNode.from_manifest("widget.shop.w", {"resource_type": "widget"})

    assert source.resource_type is NodeType.Source and not source.is_executable
    assert odd.resource_type is NodeType.Model and odd.name == "w"
    assert hash(odd) == hash(DbtNode("widget.shop.w", "other", NodeType.Seed))
    with pytest.raises(AttributeError):
        odd.name = "renamed"


def test_executable_nodes_depend_through_ephemeral_models(parser):
    nodes = parser.get_executable_nodes()

    assert sorted(nodes) == ["model.shop.left", "model.shop.right", "model.shop.wide",
                             "seed.shop.base"]
    assert nodes["model.shop.right"].depends_on == ("seed.shop.base",)  # through staged
    assert parser.get_node_dependencies("model.shop.left") == ["seed.shop.base"]
    assert parser.get_executable_nodes() is nodes
    assert parser.all_nodes["model.shop.staged"].depends_on == (
        "seed.shop.base", "source.shop.landing.raw")
    assert parser.all_nodes["source.shop.landing.raw"].description == "Raw orders"
    with pytest.raises(KeyError, match="model.shop.staged"):
        parser.get_node_dependencies("model.shop.staged")


def test_waves_follow_dependencies_in_manifest_order(parser):
    waves = parser.compute_execution_waves()

    assert [wave.wave_number for wave in waves] == [0, 1, 2]
    assert _names(waves) == [["base"], ["right", "left"], ["wide"]]


def test_waves_of_a_selection_take_unselected_dependencies_as_met(parser):
    selected = parser.filter_nodes({"model.shop.wide", "model.shop.left", "model.nowhere"})

    assert sorted(selected) == ["model.shop.left", "model.shop.wide"]
    assert parser.filter_nodes(None) is parser.get_executable_nodes()
    assert _names(parser.compute_execution_waves(selected)) == [["left"], ["wide"]]
    assert parser.compute_execution_waves({}) == []


def test_a_cycle_is_an_error_naming_its_nodes(parser):
    nodes = parser.get_executable_nodes()
    looped = {**nodes, "seed.shop.base": DbtNode("seed.shop.base", "base", "seed",
                                                 depends_on=("model.shop.wide",))}

    with pytest.raises(ValueError, match="contains cycles. Processed 0 of 4 nodes.*"
                                         "model.shop.left, model.shop.right"):
        parser.compute_execution_waves(looped)


def test_tests_are_filtered_by_selection_and_by_the_models_built(parser):
    tests = parser.get_test_nodes()

    assert sorted(tests) == ["test.shop.left_matches_right", "test.shop.unique_staged_id",
                             "unit_test.shop.wide.adds_up"]
    assert tests["test.shop.unique_staged_id"].depends_on == ("seed.shop.base",)
    assert parser.get_test_nodes() is tests
    built = {"seed.shop.base", "model.shop.left"}
    assert sorted(parser.filter_test_nodes(executable_node_ids=built)) == [
        "test.shop.unique_staged_id"]  # left_matches_right needs right too
    assert sorted(parser.filter_test_nodes({"unit_test.shop.wide.adds_up"})) == [
        "unit_test.shop.wide.adds_up"]
    assert parser.filter_test_nodes() == tests


def test_metadata_and_macro_paths(parser, tmp_path):
    (tmp_path / "bare.json").write_text("{}")
    bare = ManifestParser(tmp_path / "bare.json")

    assert (parser.adapter_type, parser.project_name) == ("duckdb", "shop")
    assert parser.get_macro_paths() == {"macro.shop.cents": "macros/cents.sql",
                                        "macro.dbt.run_query": None}
    assert (bare.adapter_type, bare.project_name, bare.all_nodes) == (None, None, {})
    assert bare.compute_execution_waves() == []


def test_a_missing_manifest_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="Manifest file not found: .*nope.json. "
                                                "Create it with `dbt parse`"):
        ManifestParser(tmp_path / "nope.json")


# ---- real dbt on DuckDB: the shop project of tests/dbt/project.py -------------------------

SHOP_IDS = {"seed.shop.raw_orders", "model.shop.orders", "model.shop.customer_totals",
            "source.shop.landing.raw_orders"}


@pytest.fixture(scope="module")
def shop(shop_project, tmp_path_factory):
    """(project, profiles dir, target dir, every unique_id): one `dbt ls`, which also
    writes the manifest into the target dir."""
    profiles = tmp_path_factory.mktemp("profiles")
    (profiles / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {profiles / 'shop.duckdb'}\n      threads: 1\n")
    target = tmp_path_factory.mktemp("target")
    return shop_project, profiles, target, resolve_selection(shop_project, profiles,
                                                             target_path=target)


def test_resolve_selection_lists_every_node_by_default(shop):
    *_, all_ids = shop

    assert SHOP_IDS < all_ids
    assert {uid.split(".")[0] for uid in all_ids - SHOP_IDS} == {"test"}
    assert len(all_ids) == 7


def test_resolve_selection_applies_dbt_selectors(shop):
    project, profiles, target, _ = shop

    assert not (project / "logs" / "dbt.log").exists()  # dbt.log only when asked for
    upstream = resolve_selection(project, profiles, select="+customer_totals",
                                 exclude="resource_type:test", target_path=target,
                                 log_level_file="debug")
    assert upstream == {"seed.shop.raw_orders", "model.shop.orders",
                        "model.shop.customer_totals"}
    assert "Running with dbt=" in (project / "logs" / "dbt.log").read_text()


def test_a_selector_matching_nothing_is_logged(shop, caplog):
    project, profiles, target, _ = shop

    with caplog.at_level(logging.WARNING, logger="prefect_dbt"):
        assert resolve_selection(project, profiles, select="tag:nope", target_path=target,
                                 target="dev") == set()
    assert "dbt ls: The selection criterion 'tag:nope' does not match" in caplog.text


def test_a_failed_dbt_ls_raises_with_what_to_check(shop, tmp_path):
    _, profiles, _, _ = shop

    with pytest.raises(DbtLsError, match=r"(?s)dbt ls failed: Runtime Error.*\nCheck the "
                                         r"selector and the project: `dbt ls --select orders`"):
        resolve_selection(tmp_path, profiles, select="orders")


def test_a_secret_dbt_quotes_from_the_profile_is_masked(shop, block_home, canary, tmp_path,
                                                        caplog):
    project, _, _, _ = shop
    Secret(value=canary).save("threads")
    rendered = Secret.load("threads").get()  # as a profile rendered from blocks reads it
    (tmp_path / "profiles.yml").write_text(
        f"shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      threads: {rendered}\n")

    with pytest.raises(DbtLsError, match=r"'\*+' is not of type 'integer'") as error:
        resolve_selection(project, tmp_path, target_path=tmp_path / "target")
    assert canary not in str(error.value) and canary not in caplog.text


def test_the_manifest_dbt_wrote_parses_into_waves(shop):
    *_, target, all_ids = shop
    parser = ManifestParser(target / "manifest.json")

    assert set(parser.all_nodes) == all_ids
    assert (parser.adapter_type, parser.project_name) == ("duckdb", "shop")
    assert _names(parser.compute_execution_waves()) == [["raw_orders"], ["orders"],
                                                        ["customer_totals"]]
    tests = parser.get_test_nodes()
    assert {node.depends_on for node in tests.values()} == {
        ("model.shop.orders",), ("model.shop.customer_totals",)}
