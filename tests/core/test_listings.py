"""The listing rows shared by `blocks types --json`, `blocks ls --json` and the web page."""

from __future__ import annotations

import json
import os
import subprocess

from core_blocks import Secret
from core_blocks.listings import block_row, type_rows
from core_blocks.registry import get_registry
from core_blocks.store import get_store
from tests.helpers import BLOCKS


def blocks_json(*args: str):
    done = subprocess.run([BLOCKS, *args, "--json"], capture_output=True, text=True,
                          timeout=60, env=os.environ, check=True)
    return json.loads(done.stdout)


def test_type_rows_are_what_blocks_types_prints():
    rows, errors = type_rows()

    assert {"types": rows, "plugin_errors": errors} == blocks_json("types")
    secret = next(r for r in rows if r["slug"] == "secret")
    assert secret["plugin"] == "core" and "fields" not in secret


def test_type_rows_with_fields_name_each_types_fields():
    rows, _ = type_rows(with_fields=True)

    for row in rows:
        cls = get_registry().block_types[row["slug"]][0]
        assert row["fields"] == list(cls.model_fields)
    assert {r["slug"] for r in rows} == set(get_registry().block_types)


def test_block_row_is_what_blocks_ls_prints(canary):
    Secret(value=canary).save("api-key")

    rows = [block_row(r) for r in get_store().list_documents()]

    assert rows == blocks_json("ls")
    assert rows[0]["type"] == "secret" and rows[0]["name"] == "api-key"
    assert canary not in json.dumps(rows)
