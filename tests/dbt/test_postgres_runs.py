"""dbt commands in process against real dbt-postgres on the test PostgreSQL server, logging in
with a canary password that must reach nothing but the server. Under CI=true a missing server
fails these tests (tests/dbt/conftest.py's postgres_login)."""

from __future__ import annotations

import logging

import pytest

from core_blocks.runtime import history
from core_blocks.runtime.artifacts import list_artifacts
from core_blocks.store import get_store
from prefect_dbt import DbtFailure
from prefect_dbt.cli.commands import run_dbt_build
from tests.dbt.project import GOOD_NODES, node_names


def test_build_on_postgres_succeeds_with_a_result_per_node(shop_project, postgres_profile,
                                                           postgres_login, caplog, block_home):
    import psycopg

    with caplog.at_level(logging.DEBUG, logger="core_blocks.runs"):
        result = run_dbt_build(project_dir=shop_project, dbt_cli_profile=postgres_profile)

    assert result.success and node_names(result) == GOOD_NODES
    seed = next(n for n in result.nodes if n.resource_type == "seed")
    assert seed.rows_affected == 3
    host, port, dbname, role, password = postgres_login
    schema = postgres_profile.target_configs.schema_
    with psycopg.connect(host=host, port=port, dbname=dbname, user=role,
                         password=password) as conn:
        rows = conn.execute(f"select customer, total from {schema}.customer_totals "
                            "order by 1").fetchall()
    assert [(c, int(t)) for c, t in rows] == [("ann", 15), ("bob", 20)]
    history.flush()
    stored = (block_home / "blocks.db").read_bytes()
    assert password not in caplog.text and password.encode() not in stored
    assert password not in str(list_artifacts(get_store())) + repr(result)


def test_a_failing_test_and_model_on_postgres_raise_dbt_failure(broken_project,
                                                                postgres_profile):
    with pytest.raises(DbtFailure) as caught:
        run_dbt_build(project_dir=broken_project, dbt_cli_profile=postgres_profile)

    message = str(caught.value)
    assert "model.shop.broken_model (error)" in message and "no_such_column" in message
    assert "test.shop.exactly_one_order (fail)" in message


def test_a_wrong_password_names_the_login_failure_not_the_password(shop_project,
                                                                   postgres_profile):
    from prefect_dbt import DbtInvocationError

    profile = postgres_profile.model_copy(deep=True)
    profile.target_configs.password = "wrong-password-123"

    with pytest.raises((DbtFailure, DbtInvocationError)) as caught:
        run_dbt_build(project_dir=shop_project, dbt_cli_profile=profile)

    assert "password authentication failed" in str(caught.value)
    assert "wrong-password-123" not in str(caught.value)


def test_a_core_operation_on_postgres_writes_its_profile_once(shop_project, postgres_profile,
                                                              postgres_login, tmp_path):
    from prefect_dbt.cli import DbtCoreOperation

    folder = tmp_path / "dot-dbt"
    operation = DbtCoreOperation(commands=["dbt seed", "dbt run"], project_dir=shop_project,
                                 profiles_dir=folder, dbt_cli_profile=postgres_profile)

    seeded, ran = operation.run()

    assert node_names(seeded) == {("seed", "raw_orders")}
    assert node_names(ran) == {("model", "orders"), ("model", "customer_totals")}
    assert (folder / "profiles.yml").stat().st_mode & 0o777 == 0o600
