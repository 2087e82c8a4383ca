"""A small dbt project on disk: a seed, two models and schema tests; a variant adds a failing
test and a failing model."""

from __future__ import annotations

from pathlib import Path

ORDERS = "id,customer,amount\n1,ann,10\n2,bob,20\n3,ann,5\n"
FILES = {
    "dbt_project.yml": "name: shop\nversion: '1.0'\nprofile: shop\nconfig-version: 2\n",
    "seeds/raw_orders.csv": ORDERS,
    "models/orders.sql": "select id, customer, amount from {{ ref('raw_orders') }}\n",
    "models/customer_totals.sql": (
        "select customer, count(*) as orders, sum(amount) as total\n"
        "from {{ ref('orders') }} group by customer\n"),
    "models/schema.yml": (
        "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: id\n"
        "        data_tests: [unique, not_null]\n  - name: customer_totals\n    columns:\n"
        "      - name: customer\n        data_tests: [unique]\n"),
    # The seed as a source, for `dbt source freshness`: always fresh, its load time "now".
    "models/sources.yml": (
        "version: 2\nsources:\n  - name: landing\n    schema: \"{{ target.schema }}\"\n"
        "    tables:\n      - name: raw_orders\n        loaded_at_field: current_timestamp\n"
        "        freshness:\n          warn_after: {count: 1, period: day}\n"),
}
BROKEN = {
    # A test that fails (three orders, not one) and a model that fails (no such column).
    "tests/exactly_one_order.sql": "select 1 from {{ ref('orders') }} having count(*) != 1\n",
    "models/broken_model.sql": "select no_such_column from {{ ref('raw_orders') }}\n",
}
# (resource type, name) of every node of the good project; test ids end in a hash.
GOOD_NODES = {("seed", "raw_orders"), ("model", "orders"), ("model", "customer_totals"),
              ("test", "unique_orders_id"), ("test", "not_null_orders_id"),
              ("test", "unique_customer_totals_customer")}


def node_names(result) -> set[tuple[str, str]]:
    """(resource type, name) of each node of a DbtResult."""
    return {(n.resource_type, n.unique_id.split(".")[2]) for n in result.nodes}


def write_project(folder: Path, broken: bool = False) -> Path:
    """The project's files under `folder`; returns it."""
    for name, text in {**FILES, **(BROKEN if broken else {})}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder
