"""The create form of a type whose required field is a nested block (dbt-cli-profile's target
configs): with none saved, it says to create one first and links there; its labels are
distinct even when a field is called `name`."""

from __future__ import annotations

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI=true
    expect = None


def test_an_empty_required_choice_says_to_create_one_first(page):
    page.goto(page.base + "#/new/dbt-cli-profile")
    expect(page.locator("h1")).to_have_text("New dbt-cli-profile block")

    hint = page.locator("#hint-target_configs")
    expect(hint).to_contain_text("Required, and no saved block of these types yet: create one "
                                 "first")
    expect(page.locator("#f-target_configs option")).to_have_text(["(none saved yet)"])
    hint.get_by_role("link", name="dbt-cli-duckdb-target-configs").click()
    expect(page.locator("h1")).to_have_text("New dbt-cli-duckdb-target-configs block")


def test_a_saved_choice_is_offered_without_the_hint(page):
    from prefect_dbt import DuckDbTargetConfigs

    DuckDbTargetConfigs(schema="main", path="shop.duckdb").save("shop-dev")
    page.goto(page.base + "#/new/dbt-cli-profile")

    expect(page.locator("#f-target_configs")).to_have_value(
        "dbt-cli-duckdb-target-configs/shop-dev")
    expect(page.locator("#hint-target_configs")).to_have_count(0)


def test_the_block_name_and_a_name_field_have_distinct_labels(page):
    page.goto(page.base + "#/new/dbt-cli-profile")
    expect(page.locator("h1")).to_have_text("New dbt-cli-profile block")

    labels = page.locator("label").all_inner_texts()
    assert len(labels) == len(set(labels)), labels
    expect(page.get_by_label("Block name")).to_have_attribute("id", "f-$name")
    expect(page.get_by_label("Name * name", exact=True)).to_have_attribute("id", "f-name")
