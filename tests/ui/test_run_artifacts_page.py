"""A run's artifacts in the page: a table artifact (every dbt run has one) as a table, a
markdown one as its text, never as markup."""

from __future__ import annotations

from core_blocks import create_markdown_artifact, create_table_artifact, flow, task
from core_blocks.runtime import history

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI=true
    expect = None


def dbt_like_run() -> str:
    """A flow whose task attaches a dbt-style node table and a markdown note; its run id."""

    @task
    def build():
        create_table_artifact("dbt-run-results", [
            {"unique_id": "model.shop.orders", "status": "success", "rows": 42,
             "timing": {"execute": 0.5}},
            {"unique_id": "model.shop.customers", "status": "error", "rows": None,
             "timing": {"execute": 0.1}},
        ], description="dbt build: 2 nodes")
        create_markdown_artifact("summary", "# Done <b>bold?</b>\n1 of 2 models built")

    @flow(name="dbt-nightly")
    def nightly():
        build()

    nightly()
    history.flush()
    from core_blocks.runtime.history import list_runs
    from core_blocks.store import get_store

    return list_runs(get_store(), kind="flow")[0]["id"]


def test_a_table_artifact_is_a_table_and_markdown_its_text(page):
    run_id = dbt_like_run()

    page.goto(page.base + f"#/run/{run_id}")
    expect(page.locator("h1")).to_contain_text("flow run dbt-nightly")

    results = page.locator("section.artifact[data-key='dbt-run-results']")
    expect(results.locator("th")).to_have_text(["unique_id", "status", "rows", "timing"])
    expect(results.locator("tbody tr")).to_have_count(2)
    expect(results.locator("tbody tr").first.locator("td")).to_have_text(
        ["model.shop.orders", "success", "42", '{"execute":0.5}'])
    expect(results).to_contain_text("dbt build: 2 nodes")
    summary = page.locator("section.artifact[data-key='summary'] pre")
    expect(summary).to_have_text("# Done <b>bold?</b>\n1 of 2 models built")
    assert page.locator("section.artifact b").count() == 0  # text, not markup
    assert "[object" not in page.locator("main").inner_text()
