"""Source freshness for the orchestrator: sources.json read, the sources a node reads from,
cache expiry from their thresholds, stale nodes skipped; and `dbt source freshness` run for
real on the shop project (DuckDB) with a fresh source and a stale one."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from prefect_dbt.core._freshness import (
    SourceFreshnessResult,
    _period_to_timedelta,
    compute_freshness_expiration,
    filter_stale_nodes,
    get_source_ancestors,
    parse_source_freshness_results,
    run_source_freshness,
)
from prefect_dbt.core._manifest import DbtNode
from tests.dbt.project import write_project

FRESH, STALE = "source.shop.landing.raw_orders", "source.shop.archive.raw_orders"


def source(unique_id: str) -> DbtNode:
    return DbtNode(unique_id, unique_id.rsplit(".", 1)[-1], "source")


def model(unique_id: str, *depends_on: str, materialization: str = "table") -> DbtNode:
    return DbtNode(unique_id, unique_id.rsplit(".", 1)[-1], "model", depends_on=depends_on,
                   materialization=materialization)


def checked(unique_id: str, status: str = "pass", age_s: float | None = 3600.0,
            warn_after: timedelta | None = None, error_after: timedelta | None = None,
            snapshotted_at: datetime | None = None) -> SourceFreshnessResult:
    return SourceFreshnessResult(unique_id, status, max_loaded_at_time_ago_in_s=age_s,
                                 warn_after=warn_after, error_after=error_after,
                                 snapshotted_at=snapshotted_at)


# raw -> (ephemeral) cleaned -> orders -> report; old -> legacy -> report; calendar alone.
GRAPH = {
    "source.p.s.raw": source("source.p.s.raw"),
    "source.p.s.old": source("source.p.s.old"),
    "model.p.cleaned": model("model.p.cleaned", "source.p.s.raw", materialization="ephemeral"),
    "model.p.orders": model("model.p.orders", "model.p.cleaned"),
    "model.p.legacy": model("model.p.legacy", "source.p.s.old"),
    "model.p.report": model("model.p.report", "model.p.orders", "model.p.legacy"),
    "model.p.calendar": model("model.p.calendar"),
}
# What ManifestParser gives the orchestrator: no sources, no ephemeral models.
EXECUTABLE = {uid: node for uid, node in GRAPH.items()
              if uid.startswith("model.") and uid != "model.p.cleaned"}


@pytest.mark.parametrize(("count", "period", "expected"), [
    (5, "minute", timedelta(minutes=5)), (12, "hour", timedelta(hours=12)),
    (3, "day", timedelta(days=3)), (0, "hour", timedelta(0))])
def test_periods_are_dbts_three(count, period, expected):
    assert _period_to_timedelta(count, period) == expected


def test_an_unknown_period_names_dbts_periods():
    with pytest.raises(ValueError, match="Unrecognized freshness period: 'week'; dbt's "
                                         "periods are minute, hour, day"):
        _period_to_timedelta(1, "week")


def test_sources_json_gives_each_source_its_status_times_and_thresholds(tmp_path):
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"metadata": {}, "elapsed_time": 0.1, "results": [
        {"unique_id": "source.p.s.raw", "status": "warn",
         "max_loaded_at": "2024-01-15T10:00:00Z", "snapshotted_at": "2024-01-15T12:00:00",
         "max_loaded_at_time_ago_in_s": 7200.0,
         # dbt writes an unset threshold as nulls
         "criteria": {"warn_after": {"count": 1, "period": "hour"},
                      "error_after": {"count": None, "period": None}}},
        {"unique_id": "source.p.s.old", "status": "runtime error",
         "max_loaded_at": "not a time"}]}))

    results = parse_source_freshness_results(path)

    assert results["source.p.s.raw"] == SourceFreshnessResult(
        "source.p.s.raw", "warn",
        max_loaded_at=datetime(2024, 1, 15, 10, tzinfo=timezone.utc),
        snapshotted_at=datetime(2024, 1, 15, 12, tzinfo=timezone.utc),
        max_loaded_at_time_ago_in_s=7200.0, warn_after=timedelta(hours=1), error_after=None)
    assert results["source.p.s.old"] == SourceFreshnessResult("source.p.s.old", "runtime error")


def test_a_nodes_sources_are_found_through_models_and_ephemeral_ones():
    assert get_source_ancestors("model.p.orders", GRAPH) == {"source.p.s.raw"}
    assert get_source_ancestors("model.p.report", GRAPH) == {"source.p.s.raw", "source.p.s.old"}
    assert get_source_ancestors("model.p.calendar", GRAPH) == set()
    assert get_source_ancestors("model.p.unknown", GRAPH) == set()


def test_expiration_is_the_least_time_left_before_a_source_goes_stale():
    results = {"source.p.s.raw": checked("source.p.s.raw", warn_after=timedelta(hours=6)),
               # no warn_after: error_after counts
               "source.p.s.old": checked("source.p.s.old", error_after=timedelta(hours=3))}

    assert compute_freshness_expiration("model.p.report", GRAPH, results) == timedelta(hours=2)
    assert compute_freshness_expiration("model.p.orders", GRAPH, results) == timedelta(hours=5)


def test_expiration_counts_the_time_since_the_check_and_stops_at_zero():
    half_hour_ago = datetime.now(timezone.utc) - timedelta(minutes=30)
    later = {"source.p.s.raw": checked("source.p.s.raw", warn_after=timedelta(hours=6),
                                       snapshotted_at=half_hour_ago)}
    past = {"source.p.s.raw": checked("source.p.s.raw", warn_after=timedelta(0),
                                      error_after=timedelta(days=1))}

    left = compute_freshness_expiration("model.p.orders", GRAPH, later)
    assert abs(left - timedelta(hours=4, minutes=30)) < timedelta(seconds=5)
    assert compute_freshness_expiration("model.p.orders", GRAPH, past) == timedelta(0)


def test_no_expiration_without_a_threshold_and_an_age():
    unmeasured = {"source.p.s.raw": checked("source.p.s.raw", age_s=None,
                                            warn_after=timedelta(hours=1)),
                  "source.p.s.old": checked("source.p.s.old")}

    assert compute_freshness_expiration("model.p.report", GRAPH, unmeasured) is None
    assert compute_freshness_expiration("model.p.calendar", GRAPH, {}) is None


@pytest.mark.parametrize("status", ["error", "runtime error"])
def test_nodes_reading_a_stale_source_are_skipped_with_their_dependents(status):
    results = {"source.p.s.raw": checked("source.p.s.raw", "warn"),
               "source.p.s.old": checked("source.p.s.old", status)}

    # extra is missing from the graph, so only its upstream node links it to the source
    nodes = {**EXECUTABLE, "model.p.extra": model("model.p.extra", "model.p.legacy")}

    remaining, skipped = filter_stale_nodes(nodes, GRAPH, results)

    assert set(remaining) == {"model.p.orders", "model.p.calendar"}
    assert skipped == {
        "model.p.legacy": {"status": "skipped", "reason": "stale source: source.p.s.old"},
        "model.p.report": {"status": "skipped", "reason": "stale source: source.p.s.old"},
        "model.p.extra": {"status": "skipped",
                          "reason": "upstream skipped due to stale source"}}


def test_nothing_is_skipped_without_a_stale_source():
    warned = {"source.p.s.old": checked("source.p.s.old", "warn")}

    assert filter_stale_nodes(EXECUTABLE, GRAPH, warned) == (EXECUTABLE, {})
    assert filter_stale_nodes(EXECUTABLE, GRAPH, {}) == (EXECUTABLE, {})


# The shop project plus a second source on the same seed, loaded (says its loaded_at_field)
# in 2000, and a model reading each source.
STALE_SOURCE = (
    "version: 2\nsources:\n  - name: archive\n    schema: \"{{ target.schema }}\"\n"
    "    tables:\n      - name: raw_orders\n"
    "        loaded_at_field: \"cast('2000-01-01' as timestamp)\"\n"
    "        freshness:\n          error_after: {count: 1, period: day}\n")
MODELS = {"models/landing_orders.sql": "select * from {{ source('landing', 'raw_orders') }}\n",
          "models/archive_orders.sql": "select * from {{ source('archive', 'raw_orders') }}\n",
          "models/archive_totals.sql": "select count(*) as n from {{ ref('archive_orders') }}\n"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    """PrefectDbtSettings of the seeded project on a DuckDB file of the module."""
    from dbt.cli.main import dbtRunner

    from prefect_dbt import PrefectDbtSettings

    folder = tmp_path_factory.mktemp("fresh-shop")
    project = write_project(folder / "project")
    (project / "models" / "archive.yml").write_text(STALE_SOURCE)
    for name, text in MODELS.items():
        (project / name).write_text(text)
    (folder / "profiles.yml").write_text(
        f"shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {folder / 'shop.duckdb'}\n      threads: 1\n")
    # seed writes target/manifest.json too
    result = dbtRunner().invoke(["seed", "--project-dir", str(project), "--profiles-dir",
                                 str(folder), "--log-level", "none"])
    assert result.success, result.exception
    return PrefectDbtSettings(project_dir=project, profiles_dir=folder)


@pytest.fixture(scope="module")
def checked_sources(settings):
    return run_source_freshness(settings)


def test_dbt_checks_each_source_against_its_thresholds(checked_sources, settings):
    fresh, stale = checked_sources[FRESH], checked_sources[STALE]

    assert set(checked_sources) == {FRESH, STALE}
    assert (fresh.status, fresh.warn_after, fresh.error_after) == ("pass", timedelta(days=1),
                                                                   None)
    assert fresh.max_loaded_at_time_ago_in_s < 60 and fresh.snapshotted_at is not None
    assert (stale.status, stale.error_after) == ("error", timedelta(days=1))
    assert stale.max_loaded_at.year == 2000
    assert (settings.project_dir / "target" / "sources.json").exists()


def test_the_manifests_nodes_on_a_stale_source_are_skipped(checked_sources, settings):
    from prefect_dbt.core._manifest import ManifestParser

    parser = ManifestParser(settings.project_dir / "target" / "manifest.json")
    nodes = parser.get_executable_nodes()

    remaining, skipped = filter_stale_nodes(nodes, parser.all_nodes, checked_sources)

    assert set(skipped) == {"model.shop.archive_orders", "model.shop.archive_totals"}
    assert skipped["model.shop.archive_orders"]["reason"] == f"stale source: {STALE}"
    assert "model.shop.landing_orders" in remaining and "model.shop.orders" in remaining
    left = compute_freshness_expiration("model.shop.landing_orders", parser.all_nodes,
                                        checked_sources)
    assert timedelta(hours=23) < left <= timedelta(days=1)


def test_dbt_prints_nothing_and_a_target_override_reaches_dbt(settings, tmp_path, capfd,
                                                              caplog):
    with caplog.at_level(logging.WARNING, logger="prefect_dbt"):
        results = run_source_freshness(settings, target_path=tmp_path / "out", target="nope")

    out, err = capfd.readouterr()
    assert results == {} and out == "" and err == ""
    assert not (tmp_path / "out" / "sources.json").exists()
    assert any("wrote no" in r.getMessage() and "'nope'" in r.getMessage()
               for r in caplog.records)


def test_a_failed_run_leaves_no_earlier_sources_json_and_logs_no_secret(settings, tmp_path,
                                                                         block_home, caplog):
    from core_blocks import Secret

    earlier = tmp_path / "old" / "sources.json"
    earlier.parent.mkdir()
    earlier.write_text(json.dumps({"results": [{"unique_id": FRESH, "status": "pass"}]}))
    canary = f"{tmp_path}/canary-4d2f/missing/shop.duckdb"  # no such folder: dbt fails
    Secret(value=canary).save("duck-path")
    (tmp_path / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ prefect.blocks.secret.duck-path.value }}\"\n")
    broken = settings.model_copy(update={"profiles_dir": tmp_path})

    with caplog.at_level(logging.DEBUG, logger="prefect_dbt"):
        assert run_source_freshness(broken, target_path=earlier.parent) == {}

    assert not earlier.exists()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("prefect_dbt")]
    assert any("Cannot open file" in line for line in lines)
    assert not any("canary-4d2f" in line for line in lines)
