"""Run artifacts: markdown and tables attached to a run, stored with its history on SQLite and
PostgreSQL, redacted like parameters, shown by `blocks runs show` and `blocks artifacts`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from pydantic import SecretStr

from core_blocks import (
    ArtifactError,
    create_markdown_artifact,
    create_table_artifact,
    flow,
    task,
)
from core_blocks.runtime import history
from core_blocks.runtime.artifacts import get_artifact, list_artifacts
from core_blocks.runtime.redaction import REDACTED
from core_blocks.store import SCHEMA_VERSION, get_store
from core_blocks.testing import reset_state
from tests.core.test_store import raw_execute
from tests.helpers import BLOCKS


def blocks(*args: str) -> subprocess.CompletedProcess:
    history.flush()
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "250"})


@task
def summarise(rows: list[dict]) -> str:
    create_table_artifact("order-totals", rows, description="totals per day")
    return create_markdown_artifact("order-report", "# Orders\n\n**2** days loaded.")


@flow
def nightly(rows: list[dict]) -> str:
    return summarise(rows)


ROWS = [{"day": "2026-11-28", "orders": 3}, {"day": "2026-11-29", "orders": 5, "late": True}]


def test_a_task_attaches_a_table_and_markdown_to_its_run(any_store):
    markdown_id = nightly(ROWS)

    artifacts = list_artifacts(get_store())
    assert [a["key"] for a in artifacts] == ["order-report", "order-totals"]
    report, totals = artifacts
    assert report["id"] == markdown_id
    assert report["data"] == "# Orders\n\n**2** days loaded."
    assert totals["data"] == {"columns": ["day", "orders", "late"],
                              "rows": [["2026-11-28", 3, None], ["2026-11-29", 5, True]]}
    assert totals["description"] == "totals per day"
    task_run = history.get_run(get_store(), totals["run_id"])
    assert task_run["fn_name"] == "summarise"
    flow_run = history.get_run(get_store(), task_run["flow_run_id"])
    # A flow's run shows what its tasks attached.
    assert [a["key"] for a in flow_run["artifacts"]] == ["order-totals", "order-report"]


def test_a_table_from_lists_takes_its_columns_from_the_first_row(block_home):
    @task
    def rows_as_lists():
        create_table_artifact("grid", [["a", "b"], [1, 2], [3, 4]])

    rows_as_lists()

    assert get_artifact(get_store(), "grid")["data"] == {"columns": ["a", "b"],
                                                        "rows": [[1, 2], [3, 4]]}


def test_secrets_are_redacted_in_tables_and_masked_in_markdown(block_home, canary):
    @task
    def leaky(password: SecretStr, note: str):
        secret = password.get_secret_value()
        create_table_artifact("logins", [{"user": "ann", "api_key": "k-123456",
                                          "token": password, "note": f"pw={secret}"}])
        create_markdown_artifact("leak", f"the password is {secret}")

    leaky(SecretStr(canary), "n")

    logins = get_artifact(get_store(), "logins")["data"]
    assert logins["rows"] == [["ann", REDACTED, REDACTED, f"pw={REDACTED}"]]
    assert get_artifact(get_store(), "leak")["data"] == f"the password is {REDACTED}"
    history.flush()
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()
    assert b"k-123456" not in (block_home / "blocks.db").read_bytes()


@pytest.mark.parametrize("key", ["", "Upper", "has space", "-dash-first", "x" * 101])
def test_a_bad_key_is_refused_with_the_rule(block_home, key):
    @task
    def bad():
        create_markdown_artifact(key, "text")

    with pytest.raises(ArtifactError, match="lower-case letters, digits and dashes"):
        bad()


def test_ragged_rows_are_refused(block_home):
    @task
    def ragged():
        create_table_artifact("ragged", [["a", "b"], [1]])

    with pytest.raises(ArtifactError, match="every row needs 2 values"):
        ragged()


def test_outside_a_run_creating_an_artifact_is_an_error_naming_the_fix(block_home):
    with pytest.raises(ArtifactError, match=r"outside a flow or task run.*inside a @task"):
        create_markdown_artifact("orphan", "text")
    with pytest.raises(ArtifactError, match="outside a flow or task run"):
        create_table_artifact("orphan", [{"a": 1}])


def test_blocks_runs_show_and_artifacts_commands_show_them(block_home):
    nightly(ROWS)
    totals = get_artifact(get_store(), "order-totals")

    shown = blocks("runs", "show", totals["run_id"])
    assert shown.returncode == 0, shown.stderr
    assert "table artifact order-totals" in shown.stdout and "2026-11-29" in shown.stdout
    assert "**2** days loaded." in shown.stdout

    listing = blocks("artifacts", "ls", "--json")
    assert [a["key"] for a in json.loads(listing.stdout)] == ["order-report", "order-totals"]
    by_run = blocks("artifacts", "ls", "--run", totals["run_id"][:10], "--key", "order-totals")
    assert by_run.returncode == 0 and "order-totals" in by_run.stdout
    assert "order-report" not in by_run.stdout

    by_key = blocks("artifacts", "show", "order-totals")
    assert by_key.returncode == 0 and "2026-11-28" in by_key.stdout
    by_id = json.loads(blocks("artifacts", "show", totals["id"][:8], "--json").stdout)
    assert by_id["data"] == totals["data"]

    missing = blocks("artifacts", "show", "no-such-key")
    assert missing.returncode == 1
    assert "No artifact with id or key 'no-such-key'" in missing.stderr


def test_a_v3_store_migrates_to_artifacts_keeping_its_runs(any_store):
    nightly(ROWS)
    history.flush()
    raw_execute("DROP TABLE run_artifacts", "ALTER TABLE runs DROP COLUMN worker",
                "UPDATE core_blocks_meta SET value = '3' WHERE key = 'schema_version'")
    reset_state()

    store = get_store()
    assert [r["fn_name"] for r in history.list_runs(store)] == ["summarise", "nightly"]
    assert store.schema_version() == SCHEMA_VERSION and list_artifacts(store) == []
    nightly(ROWS)
    assert len(list_artifacts(get_store())) == 2
