"""Fixtures for the core-blocks-dbt tests: the dbt project on disk (one per module, so dbt's
partial parsing is shared), DuckDB profiles in a temp folder, and a PostgreSQL profile whose
password is a canary: a login role made for the session on CORE_BLOCKS_TEST_PG_URL's server.
"""

from __future__ import annotations

import os
import secrets
import uuid
from urllib.parse import urlsplit

import pytest

from tests.conftest import service_missing
from tests.dbt.project import write_project


@pytest.fixture(scope="module")
def shop_project(tmp_path_factory):
    """The good project, built by each test into its own database."""
    return write_project(tmp_path_factory.mktemp("shop"))


@pytest.fixture(scope="module")
def broken_project(tmp_path_factory):
    """The project with a failing test and a failing model."""
    return write_project(tmp_path_factory.mktemp("broken-shop"), broken=True)


@pytest.fixture(scope="module")
def duckdb_profile(tmp_path_factory):
    """A DbtCliProfile on a DuckDB file of the module: one profile, so dbt parses each project
    once per module (a changed profile makes it parse again). Copy it before changing it."""
    from prefect_dbt import DbtCliProfile, DuckDbTargetConfigs

    path = tmp_path_factory.mktemp("duckdb") / "shop.duckdb"
    return DbtCliProfile(name="shop", target="dev", target_configs=DuckDbTargetConfigs(
        path=str(path), threads=2))


@pytest.fixture(scope="session")
def postgres_login():
    """(host, port, dbname, role, password): a login role with a canary password, owning a
    schema of its own in CORE_BLOCKS_TEST_PG_URL's database; dropped at the end."""
    base = os.environ.get("CORE_BLOCKS_TEST_PG_URL")
    if not base:
        service_missing("PostgreSQL", "set CORE_BLOCKS_TEST_PG_URL (make test starts a server)")
    import psycopg

    role = f"dbt_{uuid.uuid4().hex[:10]}"
    password = f"canary-{secrets.token_hex(12)}"
    try:
        conn = psycopg.connect(base, autocommit=True)
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", f"cannot connect to CORE_BLOCKS_TEST_PG_URL ({exc})")
    parts = urlsplit(base)
    dbname = parts.path.lstrip("/")
    with conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f"GRANT CREATE, CONNECT ON DATABASE {dbname} TO {role}")
    yield parts.hostname, parts.port or 5432, dbname, role, password
    with psycopg.connect(base, autocommit=True) as conn:
        for (schema,) in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspowner = "
                "(SELECT oid FROM pg_roles WHERE rolname = %s)", (role,)).fetchall():
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.execute(f"REVOKE ALL ON DATABASE {dbname} FROM {role}")
        conn.execute(f"DROP ROLE {role}")


@pytest.fixture
def postgres_profile(postgres_login):
    """A DbtCliProfile for dbt-postgres on a schema of its own (dbt creates it)."""
    from prefect_dbt import DbtCliProfile, PostgresTargetConfigs

    host, port, dbname, role, password = postgres_login
    return DbtCliProfile(name="shop", target="ci", target_configs=PostgresTargetConfigs(
        host=host, port=port, user=role, password=password, dbname=dbname,
        schema=f"shop_{uuid.uuid4().hex[:8]}", threads=2))
