"""A store file written by schema version 4 (before the store became a package) opens with
today's code: its blocks, runs, artifacts and limits read back, and new writes land.

`data/store_v4.sql` is the `iterdump()` of a store made by that code: a String, a
LegacyEndpoint, a LegacyService whose endpoint is a nested (anonymous) LegacyEndpoint, a
pending secret-journal entry, a flow run `nightly(2)` with two task runs, their states and
one markdown artifact each, and a concurrency limit `warehouse` of 2 slots. Never regenerate
it with newer code.
"""

import sqlite3
from pathlib import Path

import pytest

from core_blocks import Block, String, flow, task
from core_blocks.runtime import history
from core_blocks.runtime.artifacts import get_artifact, list_artifacts
from core_blocks.runtime.concurrency import concurrency, list_limits, set_limit
from core_blocks.store import SCHEMA_VERSION, get_store
from core_blocks.store.migrations import statements_after
from core_blocks.testing import reset_state

DUMP = Path(__file__).parent / "data" / "store_v4.sql"
FLOW_RUN = "6882c790b1f64df59aec7d145ac619f6"


class LegacyEndpoint(Block):
    """Where a service listens."""

    url: str
    port: int


class LegacyService(Block):
    """A service with its endpoint nested."""

    endpoint: LegacyEndpoint
    owner: str


@task
def double(x: int) -> int:
    return 2 * x


@flow
def nightly(n: int) -> int:
    return sum(double(i) for i in range(n))


@pytest.fixture
def v4_store(block_home, monkeypatch):
    """block_home's store rebuilt from the version-4 dump."""
    monkeypatch.setenv("CORE_BLOCKS_RUN_RETENTION", "off")  # its runs age; keep them
    reset_state()
    conn = sqlite3.connect(block_home / "blocks.db")
    conn.executescript(DUMP.read_text())
    conn.close()
    return get_store()


def _schema(conn) -> dict[str, str]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    return {name: " ".join(sql.split()) for name, sql in rows}


def test_its_blocks_load(v4_store):
    assert String.load("greeting").value == "hello"
    api = LegacyService.load("api")
    assert (api.owner, api.endpoint.url, api.endpoint.port) == (
        "ops", "https://api.example.com", 8443)
    assert LegacyEndpoint.load("db").port == 5432
    assert [r.ref for r in v4_store.list_documents()] == [
        "legacy-endpoint/db", "legacy-service/api", "string/greeting"]
    assert [row[0] for row in v4_store.journal()] == ["secret-left-by-a-crash"]


def test_its_runs_artifacts_and_limits_read_back(v4_store):
    runs = history.list_runs(v4_store)
    assert sorted((r["kind"], r["name"][:7], r["state"]) for r in runs) == [
        ("flow", "nightly", "Completed"), ("task", "double-", "Completed"),
        ("task", "double-", "Completed")]
    assert history.count_runs(v4_store, kind="task") == 2
    run = history.get_run(v4_store, FLOW_RUN)
    assert [s["state"] for s in run["states"]] == ["Pending", "Running", "Completed"]
    assert len(run["children"]) == 2
    assert [a["data"] for a in run["artifacts"]] == ["**0** doubled is 0", "**1** doubled is 2"]
    assert len(list_artifacts(v4_store, key="doubled")) == 2
    assert get_artifact(v4_store, "doubled")["data"] == "**1** doubled is 2"
    assert [(limit["name"], limit["slots"]) for limit in list_limits(v4_store)] == [
        ("warehouse", 2)]


def test_it_migrates_to_the_current_version_and_takes_new_writes(v4_store):
    assert v4_store.schema_version() == SCHEMA_VERSION

    LegacyEndpoint(url="https://cache.example.com", port=6379).save("cache")
    LegacyService(endpoint=LegacyEndpoint.load("cache"), owner="web").save("api", overwrite=True)
    assert nightly(3) == 6
    set_limit(v4_store, "warehouse", 3)
    with concurrency("warehouse", occupy=3):
        assert list_limits(v4_store)[0]["active"] == 3
    history.flush()

    assert LegacyService.load("api").endpoint.url == "https://cache.example.com"
    assert history.count_runs(v4_store) == 3 + 4
    assert list_limits(v4_store)[0] == {"name": "warehouse", "slots": 3, "active": 0,
                                        "holders": 0}


def test_a_new_store_has_the_schema_of_a_migrated_version_4_store(block_home):
    """Tables, columns and indexes are the same whether a store was made then and migrated,
    or made now."""
    get_store().schema_version()  # creates blocks.db
    new = sqlite3.connect(block_home / "blocks.db")
    old = sqlite3.connect(":memory:")
    old.executescript(DUMP.read_text())
    for statement in statements_after(4):
        old.execute(statement)

    assert _schema(new) == _schema(old)
