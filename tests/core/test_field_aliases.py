"""A field with an alias (dbt's `schema`, a field named `schema_` because Block has a schema()
method) is known by its alias wherever a user sees or types field names: `blocks create --set`,
the prompts and the missing-field line, `blocks inspect` and the page's view of a block."""

from __future__ import annotations

import json
import subprocess

import pytest

from core_blocks import Block
from core_blocks.store import get_store
from tests.helpers import BLOCKS, plugin_folder

TARGET_PLUGIN = '''
from pydantic import ConfigDict, Field, SecretStr
from core_blocks import Block, hookimpl


class AliasTarget(Block):
    """A warehouse target whose `schema` key is stored as the field schema_."""

    model_config = ConfigDict(populate_by_name=True)

    host: str = Field(description="Server host name")
    password: SecretStr = Field(description="Login password")
    schema_: str = Field(alias="schema", description="Schema to build in")


class AliasProfile(Block):
    """A profile holding a target: the alias shows inside a nested block too."""

    target: AliasTarget = Field(description="The target")


@hookimpl
def register_block_types():
    return [AliasTarget, AliasProfile]
'''


@pytest.fixture
def target_type(tmp_path, monkeypatch):
    plugin_folder(tmp_path, monkeypatch, "alias_target.py", TARGET_PLUGIN)
    from core_blocks.registry import get_registry

    return get_registry().block_type("alias-target")


def blocks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_create_takes_the_alias_and_inspect_shows_it(target_type, canary):
    done = blocks("create", "alias-target/dev", "--set", "host=db", "--set",
                  f"password={canary}", "--set", "schema=mart")
    assert done.returncode == 0, done.stderr

    shown = json.loads(blocks("inspect", "alias-target/dev", "--json").stdout)["fields"]
    assert shown == {"host": "db", "password": "********", "schema": "mart"}
    revealed = blocks("inspect", "alias-target/dev", "--show-secrets", "--json")
    assert json.loads(revealed.stdout)["fields"] == {"host": "db", "password": canary,
                                                     "schema": "mart"}
    table = blocks("inspect", "alias-target/dev")
    assert "schema_" not in table.stdout and "mart" in table.stdout
    assert Block.load("alias-target/dev").schema_ == "mart"


def test_a_nested_block_and_the_page_show_the_alias(target_type, canary):
    from core_blocks.registry import get_registry
    from core_blocks.ui.api import describe_block

    target = target_type(host="db", password=canary, schema="mart")
    get_registry().block_type("alias-profile")(target=target).save("main")

    for fields in (json.loads(blocks("inspect", "alias-profile/main", "--json").stdout)["fields"],
                   describe_block("alias-profile", "main")["fields"]):
        assert fields["target"]["schema"] == "mart" and "schema_" not in fields["target"]


def test_missing_and_unknown_fields_are_named_by_alias(target_type):
    missing = blocks("create", "alias-target/dev", "--set", "host=db", "--set", "password=pw")
    unknown = blocks("create", "alias-target/dev", "--set", "schemaa=x")

    assert missing.stderr == (
        "Error: Missing required field(s) for alias-target/dev: schema. Add --set schema=VALUE "
        "or use --from-json FILE (there is no terminal to prompt on).\n")
    assert unknown.stderr == ("Error: 'schemaa' is not a field of alias-target; its fields: "
                              "host, password, schema.\n")
    assert get_store().list_documents(include_anonymous=True) == []
