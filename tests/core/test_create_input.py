"""How `blocks create` reads values: --set is JSON for JSON-typed fields (never silently text),
text for text fields; on a terminal a bad answer is explained and asked again, keeping the
answers already given."""

from __future__ import annotations

import subprocess

import pexpect
import pytest

from core_blocks import JSON, Block, String
from core_blocks.store import get_store
from tests.helpers import BLOCKS, plugin_folder
from tests.helpers import spawn_blocks as spawn

SETTINGS_PLUGIN = '''
from datetime import date
from pathlib import Path

from pydantic import Field
from core_blocks import Block, hookimpl


class InputProbe(Block):
    """Every kind of field value."""

    host: str = Field(description="Server host name")
    port: int = Field(gt=0, description="Server port")
    verbose: bool = Field(default=False, description="Log more")
    tables: list[str] = Field(default_factory=list, description="Tables to sync")
    options: dict[str, int] | None = Field(default=None, description="Tuning options")
    folder: Path = Field(default=Path("."), description="Working folder")
    since: date | None = Field(default=None, description="First day to sync")


@hookimpl
def register_block_types():
    return [InputProbe]
'''


@pytest.fixture
def probe_type(tmp_path, monkeypatch):
    plugin_folder(tmp_path, monkeypatch, "input_probe.py", SETTINGS_PLUGIN)
    from core_blocks.registry import get_registry

    return get_registry().block_type("input-probe")


def blocks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)



def test_malformed_json_shows_the_parser_message_and_position_never_the_value():
    result = blocks("create", "json/j", "--set", 'value={"a": 1, "token": "s3cr3t"')

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "Error: --set value for field 'value' of json is not valid JSON: Expecting ',' "
        "delimiter at column 27. Write it as JSON (text in double quotes).\n")
    assert JSON.list() == []


@pytest.mark.parametrize("field, text, message", [
    ("port", "54x", "must be an integer, e.g. 42"),
    ("verbose", "yes", "must be true or false"),
    ("tables", "[orders", "is not valid JSON: Expecting value at column 2"),
    ("options", '{"pool": 5', "is not valid JSON: Expecting ',' delimiter at column 11"),
], ids=["int", "bool", "list", "dict"])
def test_json_typed_fields_never_fall_back_to_text(probe_type, field, text, message):
    """A number or boolean field says what it wants; a list or dict field, where JSON fails."""
    result = blocks("create", "input-probe/p", "--set", "host=db", "--set", "port=5432",
                    "--set", f"{field}={text}")

    assert result.returncode == 1
    assert f"--set value for field {field!r} of input-probe {message}." in result.stderr
    assert get_store().list_documents(include_anonymous=True) == []


def test_valid_json_and_text_fields_are_saved_as_typed(probe_type):
    result = blocks("create", "input-probe/p", "--set", "host=5432", "--set", "port=5432",
                    "--set", "verbose=true", "--set", 'tables=["a", "b"]',
                    "--set", 'options={"pool": 5}', "--set", "folder=/srv/sync",
                    "--set", "since=2026-11-24")
    assert result.returncode == 0, result.stderr

    saved = Block.load("input-probe/p")
    assert saved.host == "5432"  # a text field keeps digits as text
    assert (saved.port, saved.verbose, saved.tables, saved.options) == (
        5432, True, ["a", "b"], {"pool": 5})
    assert str(saved.folder) == "/srv/sync" and saved.since.isoformat() == "2026-11-24"


@pytest.mark.parametrize("value, found", [
    ("NaN", "NaN"), ("-Infinity", "-Infinity"), ('{"rate": 1e999}', 'Infinity at ["rate"]'),
], ids=["nan", "minus-infinity", "overflow"])
def test_numbers_json_cannot_hold_are_refused_from_set(value, found):
    result = blocks("create", "json/j", "--set", f"value={value}")

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"Error: --set value for field 'value' of json holds {found}, which JSON cannot store "
        "(it would be saved as null); write a finite number, or null.\n")
    assert JSON.list() == []


def test_numbers_json_cannot_hold_are_refused_from_a_json_file(tmp_path):
    source = tmp_path / "values.json"
    source.write_text('{"value": {"ids": [1, NaN]}}')

    result = blocks("create", "json/j", "--from-json", str(source))

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"Error: --from-json {source} holds NaN at [\"value\"][\"ids\"][1], which JSON cannot "
        "store (it would be saved as null); write a finite number, or null.\n")
    assert JSON.list() == []


def test_big_integers_from_set_are_saved_exactly():
    assert blocks("create", "json/ids", "--set", "value=[18446744073709551617]").returncode == 0
    assert JSON.load("ids").value == [2**64 + 1]


def test_plain_string_fields_take_text_as_is():
    assert blocks("create", "string/s", "--set", 'value={"a": 1').returncode == 0
    assert String.load("s").value == '{"a": 1'


def test_a_bad_answer_is_asked_again_keeping_the_others(probe_type):
    """Not a number, then an out-of-range port: each explained in one line, then asked again."""
    child = spawn("create", "input-probe/p")
    child.expect("host")
    child.sendline("db.local")
    child.expect(r"port.*\[JSON\]")
    child.sendline("54x")
    # (on a terminal "Error:" is coloured: the match starts after it)
    child.expect(r"The value for field 'port' of input-probe must be an integer, e\.g\. 42\. "
                 r"Type it again\.")
    child.expect("port")
    child.sendline("-1")
    child.expect(r"Invalid value for field 'port' of input-probe: Input should be "
                 r"greater than 0\. Type it again\.")
    child.expect("port")
    child.sendline("5432")
    child.expect(r"Set optional fields")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.transcript.getvalue()
    assert child.transcript.getvalue().count("host (Server host name)") == 1  # asked once
    saved = Block.load("input-probe/p")
    assert (saved.host, saved.port) == ("db.local", 5432)


def test_a_missing_nested_block_is_asked_again(tmp_path, monkeypatch):
    plugin_folder(tmp_path, monkeypatch, "nested_probe.py", '''
from pydantic import Field
from core_blocks import Block, Secret, hookimpl


class NestedProbe(Block):
    """A database whose password is a saved Secret block."""

    host: str = Field(description="Server host name")
    password: Secret = Field(description="The password block")


@hookimpl
def register_block_types():
    return [NestedProbe]
''')
    assert blocks("create", "secret/db-pw", "--set", "value=pw").returncode == 0

    child = spawn("create", "nested-probe/main")
    child.expect("host")
    child.sendline("db")
    child.expect("password")
    child.sendline("secret/absent")
    child.expect(r"No secret block named 'absent'.*Type it again\.")
    child.expect("password")
    child.sendline("secret/db-pw")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.transcript.getvalue()
    saved = Block.load("nested-probe/main")
    assert saved.host == "db" and saved.password.get() == "pw"
