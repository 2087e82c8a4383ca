"""NodeTaskTracker: node statuses across threads, and node runs recorded within a run."""

from __future__ import annotations

import threading

from core_blocks import flow, task
from prefect_dbt.core._manifest import DbtNode
from prefect_dbt.core._tracker import NodeTaskTracker


def test_a_waiter_wakes_when_dbt_reports_the_node():
    tracker = NodeTaskTracker()
    tracker.start_task("model.shop.orders", object())
    assert not tracker.is_node_complete("model.shop.orders")

    threading.Timer(0.02, tracker.set_node_status,
                    ("model.shop.orders", {"status": "success"}, "done")).start()

    assert tracker.wait_for_node_completion("model.shop.orders", timeout=2) is True
    assert tracker.get_node_status("model.shop.orders")["event_message"] == "done"
    assert tracker.wait_for_node_completion("model.shop.never", timeout=0.01) is False


def test_node_runs_are_children_of_the_invoking_run_and_see_upstream_states(block_home):
    from core_blocks import get_run_context

    @task
    def record(value: int) -> int:
        return value * 2

    @flow
    def build():
        tracker = NodeTaskTracker()
        context = {"run_context": get_run_context()}
        tracker.run_task_in_thread("seed.a", record, None, {"value": 1}, context).join()
        tracker.set_node_dependencies("model.b", ["seed.a"])
        tracker.run_task_in_thread("model.b", record, None, {"value": 2}, context).join()
        return tracker

    tracker = build()
    assert tracker.get_task_result("seed.a").result() == 2
    assert tracker.get_task_result("model.b").result() == 4
    assert tracker.get_task_logger("model.b", custom="x").extra["custom"] == "x"


def test_a_node_selects_itself_by_file_or_name():
    model = DbtNode.from_manifest("model.shop.orders", {
        "name": "orders", "resource_type": "model", "original_file_path": "models/orders.sql",
        "config": {"materialized": "ephemeral"}, "depends_on": {"nodes": ["seed.shop.raw"]}})
    test = DbtNode("test.shop.unique_orders_id", "unique_orders_id", "test",
                   fqn=("shop", "unique_orders_id"))

    assert model.dbt_selector == "path:models/orders.sql" and model.depends_on == ("seed.shop.raw",)
    assert model.is_executable is False  # ephemeral: no table of its own
    assert test.dbt_selector == "shop.unique_orders_id" and not test.is_executable
