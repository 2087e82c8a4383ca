"""The `blocks` CLI, run as users run it: the real console script in a subprocess (no TTY), or
in a pseudo-terminal through pexpect for the prompts. Exit codes: 0 ok, 1 user error (one line
on stderr, no traceback), 2 usage error.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from core_blocks import JSON, Block, Secret, String, Webhook
from core_blocks.cli.app import cli
from core_blocks.registry import get_registry
from core_blocks.secrets.selection import backend_named
from core_blocks.store import get_store
from tests.helpers import BLOCKS, finish, plugin_folder
from tests.helpers import spawn_blocks as spawn

SAVED = re.compile(r"^Saved (\S+) \(([0-9a-f-]{36})\)\.$", re.M)

DATABASE_PLUGIN = '''
from pydantic import Field
from core_blocks import Block, Secret, hookimpl


class CliDatabase(Block):
    """A database whose password is a saved Secret block."""

    host: str = Field(description="Server host name")
    password: Secret = Field(description="The password block")


@hookimpl
def register_block_types():
    return [CliDatabase]
'''

WAREHOUSE_MODULE = '''
from pydantic import Field, SecretStr
from core_blocks import Block


class {name}(Block):
    """Connection settings for a warehouse."""

    host: str = Field(description="Server host name")
    password: SecretStr = Field(description="Login password")
'''


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    """The real `blocks` console script, without a terminal (stdin is /dev/null or `input`)."""
    stdin = None if input is not None else subprocess.DEVNULL
    environment = {**os.environ, "COLUMNS": "250", **(env or {})}
    return subprocess.run([BLOCKS, *args], input=input, stdin=stdin, capture_output=True,
                          text=True, timeout=60, env=environment)


def ok(*args: str, **kwargs) -> subprocess.CompletedProcess:
    result = run(*args, **kwargs)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result


def user_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 1 with exactly one line on stderr, no traceback, holding every fragment."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def saved_id(result: subprocess.CompletedProcess, ref: str) -> str:
    match = SAVED.search(result.stdout)
    assert match and match.group(1) == ref, result.stdout
    return match.group(2)


def as_json(result: subprocess.CompletedProcess):
    return json.loads(result.stdout)




@pytest.fixture
def database_type(tmp_path, monkeypatch):
    """A plugin folder providing `cli-database`, whose `password` field is a nested Secret."""
    plugin_folder(tmp_path, monkeypatch, "cli_database.py", DATABASE_PLUGIN)
    return get_registry().block_type("cli-database")


def import_file(path: Path, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- types and schema -------------------------------------------------------------------


def test_types_lists_every_registered_type():
    """`types` shows each plugin type; --json gives slug, name and plugin for each."""
    expected = get_registry().block_types
    table = ok("types").stdout
    for slug, (cls, _) in expected.items():
        assert slug in table and cls._block_type_name in table

    listed = as_json(ok("types", "--json"))
    assert listed["plugin_errors"] == {}
    by_slug = {t["slug"]: t for t in listed["types"]}
    assert set(by_slug) == set(expected)
    for slug, (cls, plugin) in expected.items():
        assert by_slug[slug]["name"] == cls._block_type_name
        assert by_slug[slug]["plugin"] == plugin
        assert by_slug[slug]["capabilities"] == list(cls._capabilities)


def test_types_warns_about_a_broken_plugin_and_lists_the_rest(tmp_path):
    """A plugin file that fails to import is a warning naming it; other types still list."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "broken_plugin.py").write_text("raise ImportError('cannot find vendor sdk')\n")
    env = {"CORE_BLOCKS_PLUGINS_DIRS": str(folder)}

    result = ok("types", env=env)
    assert "broken_plugin" in result.stderr and "cannot find vendor sdk" in result.stderr
    assert "secret" in result.stdout

    listed = as_json(ok("types", "--json", env=env))
    assert any("cannot find vendor sdk" in e for e in listed["plugin_errors"].values())
    assert "webhook" in {t["slug"] for t in listed["types"]}


@pytest.mark.parametrize("cls", [Secret, Webhook, JSON], ids=lambda c: c._block_type_slug)
def test_schema_prints_the_type_schema(cls):
    """`schema TYPE` is exactly the class's JSON schema, secrets marked writeOnly."""
    schema = as_json(ok("schema", cls._block_type_slug))
    assert schema == json.loads(json.dumps(cls.schema()))
    for field in schema["secret_fields"]:
        assert schema["properties"][field]["writeOnly"] is True


def test_schema_of_an_unknown_type_suggests_the_close_one():
    user_error(run("schema", "secrte"), "Unknown block type 'secrte'", "secret")


# -- register ---------------------------------------------------------------------------


def test_register_module_records_types_and_schemas(tmp_path):
    """`register -m` records slug, schema and checksum; `types` then lists the type."""
    modules = tmp_path / "mods"
    modules.mkdir()
    path = modules / "cli_reg_mod.py"
    path.write_text(WAREHOUSE_MODULE.format(name="CliRegModWarehouse"))
    cls = import_file(path, "cli_reg_mod_copy").CliRegModWarehouse
    slug = cls._block_type_slug

    result = ok("register", "-m", "cli_reg_mod", env={"PYTHONPATH": str(modules)})
    assert slug in result.stdout

    [recorded] = [t for t in get_store().list_types() if t.slug == slug]
    assert recorded.schema == json.loads(json.dumps(cls.schema()))
    assert recorded.checksum == cls.schema_checksum()
    assert recorded.package == "cli_reg_mod"
    assert recorded.schema["secret_fields"] == ["password"]

    listed = {t["slug"]: t for t in as_json(ok("types", "--json"))["types"]}
    assert listed[slug]["plugin"] is None
    assert "register" in listed[slug]["source"]
    assert slug in ok("types").stdout


def test_register_file_with_a_hook_records_its_types(tmp_path):
    """`register -f` honours a register_block_types hookimpl in the file."""
    path = tmp_path / "hooked.py"
    path.write_text(WAREHOUSE_MODULE.format(name="CliRegFileWarehouse")
                    + "\nfrom core_blocks import hookimpl\n\n\n@hookimpl\n"
                      "def register_block_types():\n    return [CliRegFileWarehouse]\n")
    cls = import_file(path, "cli_reg_file_copy").CliRegFileWarehouse

    registered = as_json(ok("register", "-f", str(path), "--json"))
    assert registered["registered"] == [cls._block_type_slug]

    [recorded] = [t for t in get_store().list_types() if t.slug == cls._block_type_slug]
    assert recorded.checksum == cls.schema_checksum()
    assert recorded.schema["properties"].keys() == cls.schema()["properties"].keys()


def test_register_refusals(tmp_path):
    """Neither or both sources, a missing module or file, a file without blocks: exit 1."""
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    user_error(run("register"), "exactly one of -m MODULE or -f FILE")
    user_error(run("register", "-m", "json", "-f", str(empty)), "exactly one")
    user_error(run("register", "-m", "no_such_module_xyz"), "no_such_module_xyz")
    user_error(run("register", "-f", str(tmp_path / "missing.py")), "missing.py")
    user_error(run("register", "-f", str(empty)), "No block types found")
    assert get_store().list_types() == []


# -- create, ls -------------------------------------------------------------------------


def test_create_with_set_saves_typed_values():
    """--set parses JSON for non-string fields and keeps strings as text."""
    result = ok("create", "webhook/alerts", "--set", "url=https://hooks.example/T0",
                "--set", "timeout_seconds=2.5", "--set", 'headers={"Authorization": "Bearer t"}',
                "--set", "method=PUT")
    block_id = saved_id(result, "webhook/alerts")
    ok("create", "string/port-text", "--set", "value=5432")
    ok("create", "json/settings", "--set", 'value={"tables": ["a", "b"], "n": 3}')

    hook = Webhook.load("alerts")
    assert str(hook._block_document_id) == block_id
    assert hook.url.get_secret_value() == "https://hooks.example/T0"
    assert hook.timeout_seconds == 2.5 and hook.method == "PUT"
    assert hook.headers.get_secret_value() == {"Authorization": "Bearer t"}
    assert String.load("port-text").value == "5432"
    assert JSON.load("settings").value == {"tables": ["a", "b"], "n": 3}


def test_ls_lists_saved_blocks_and_filters_by_type():
    """`ls` shows refs; --type filters; --json carries the ids `create` printed."""
    assert "No blocks saved" in ok("ls").stdout
    assert as_json(ok("ls", "--json")) == []
    ids = {"secret/db-pw": saved_id(ok("create", "secret/db-pw", "--set", "value=p"),
                                    "secret/db-pw"),
           "string/region": saved_id(ok("create", "string/region", "--set", "value=eu"),
                                     "string/region")}

    table = ok("ls").stdout
    assert "secret/db-pw" in table and "string/region" in table
    rows = as_json(ok("ls", "--json"))
    assert {f"{r['type']}/{r['name']}": r["id"] for r in rows} == ids
    assert all(r["version"] == 1 and r["anonymous"] is False for r in rows)

    only = ok("ls", "--type", "secret").stdout
    assert "secret/db-pw" in only and "string/region" not in only
    assert [r["name"] for r in as_json(ok("ls", "--type", "secret", "--json"))] == ["db-pw"]
    assert "No json blocks saved" in ok("ls", "--type", "json").stdout


def test_ls_all_adds_anonymous_nested_blocks(database_type):
    """An unsaved nested block is saved anonymously: hidden from `ls`, shown by `ls --all`."""
    database_type(host="db", password=Secret(value="pw")).save("main")

    named = as_json(ok("ls", "--json"))
    everything = as_json(ok("ls", "--all", "--json"))
    assert [(r["type"], r["name"]) for r in named] == [("cli-database", "main")]
    anonymous = [r for r in everything if r["anonymous"]]
    assert [r["type"] for r in anonymous] == ["secret"]
    assert len(everything) == 2


def test_create_links_a_nested_block_by_reference(database_type):
    """--set field=type/name (or just name when one type fits) references a saved block."""
    ok("create", "secret/db-pw", "--set", "value=hunter2")
    ok("create", "cli-database/main", "--set", "host=db.local", "--set", "password=secret/db-pw")
    ok("create", "cli-database/replica", "--set", "host=db2", "--set", "password=db-pw")

    for name in ("main", "replica"):
        loaded = Block.load(f"cli-database/{name}")
        assert loaded.password.get() == "hunter2"
        assert loaded.password._block_document_name == "db-pw"
    info = as_json(ok("inspect", "cli-database/main", "--json"))
    assert info["fields"] == {"host": "db.local", "password": {"ref": "secret/db-pw"}}

    ok("create", "secret/db-pw", "--set", "value=rotated", "--overwrite")
    assert Block.load("cli-database/main").password.get() == "rotated"


def test_create_refuses_a_nested_reference_of_the_wrong_type_or_missing(database_type):
    ok("create", "string/not-a-secret", "--set", "value=x")
    user_error(run("create", "cli-database/main", "--set", "host=h",
                   "--set", "password=string/not-a-secret"), "password", "secret", "string")
    user_error(run("create", "cli-database/main", "--set", "host=h",
                   "--set", "password=secret/absent"), "absent")
    assert get_store().get_document("cli-database", "main") is None


def test_create_from_json_file_and_set_overrides_it(tmp_path):
    """--from-json FILE supplies fields; a --set for the same field wins."""
    values = tmp_path / "hook.json"
    values.write_text(json.dumps({"url": "https://hooks.example/from-file",
                                  "headers": {"X-Token": "t0"}, "timeout_seconds": 3}))
    ok("create", "webhook/from-file", "--from-json", str(values))
    ok("create", "webhook/overridden", "--from-json", str(values), "--set", "timeout_seconds=7")

    hook = Webhook.load("from-file")
    assert hook.url.get_secret_value() == "https://hooks.example/from-file"
    assert hook.headers.get_secret_value() == {"X-Token": "t0"}
    assert hook.timeout_seconds == 3
    assert Webhook.load("overridden").timeout_seconds == 7


def test_create_from_json_stdin():
    """--from-json - reads the object from stdin."""
    result = ok("create", "secret/piped", "--from-json", "-",
                input=json.dumps({"value": "from-stdin"}))
    saved_id(result, "secret/piped")
    assert Secret.load("piped").get() == "from-stdin"


@pytest.mark.parametrize("text, fragment", [
    ('{"value": ', "not valid JSON"),
    ('["a list"]', "JSON object"),
    ('{"valu": "x"}', "'valu' is not a field of secret"),
], ids=["invalid", "not-an-object", "unknown-field"])
def test_create_from_json_refuses_bad_input(text, fragment):
    user_error(run("create", "secret/bad", "--from-json", "-", input=text), fragment)
    assert Secret.list() == []


def test_create_refuses_an_existing_name_unless_overwrite():
    """Without --overwrite the old value stays; with it the value is replaced (version 2)."""
    first = saved_id(ok("create", "secret/token", "--set", "value=old"), "secret/token")

    user_error(run("create", "secret/token", "--set", "value=new"), "already exists",
               "--overwrite")
    assert Secret.load("token").get() == "old"

    again = saved_id(ok("create", "secret/token", "--set", "value=new", "--overwrite"),
                     "secret/token")
    assert again == first
    assert Secret.load("token").get() == "new"
    assert as_json(ok("inspect", "secret/token", "--json"))["version"] == 2


def test_create_without_a_tty_lists_the_missing_required_fields(database_type):
    """No terminal: missing required fields are an error naming each, and nothing is saved."""
    line = user_error(run("create", "cli-database/main"), "host", "password")
    assert "cli-database/main" in line
    user_error(run("create", "webhook/hook", "--set", "method=PUT"), "Missing", "url")
    assert get_store().list_documents(include_anonymous=True) == []


@pytest.mark.parametrize("args, fragments", [
    (["create", "secret/x", "--set", "valu=1"], ["'valu' is not a field of secret", "value"]),
    (["create", "secret/x", "--set", "no-equals-sign"], ["FIELD=VALUE"]),
    (["create", "webhook/x", "--set", "url=https://hooks.example/u",
      "--set", "timeout_seconds=-1"], ["timeout_seconds"]),
    (["create", "nosuchtype/x", "--set", "a=b"], ["Unknown block type 'nosuchtype'"]),
    (["create", "secret/Bad_Name", "--set", "value=x"], ["Invalid block name", "lowercase"]),
    (["create", "secret", "--set", "value=x"], ["TYPE/NAME"]),
    (["inspect", "secret/absent"], ["No secret block named 'absent'", "blocks create"]),
    (["delete", "secret/absent", "--yes"], ["No secret block named 'absent'"]),
], ids=["unknown-field", "malformed-set", "invalid-value", "unknown-type", "bad-name",
        "bad-ref", "inspect-missing", "delete-missing"])
def test_user_errors_are_one_line_and_exit_1(args, fragments):
    user_error(run(*args), *fragments)
    assert get_store().list_documents(include_anonymous=True) == []


@pytest.mark.parametrize("args", [
    ["ls", "--no-such-option"],
    ["create"],
    ["no-such-command"],
    ["inspect", "secret/x", "extra-argument"],
], ids=["unknown-option", "missing-argument", "unknown-command", "extra-argument"])
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Usage:" in result.stderr and "Traceback" not in result.stderr


def test_debug_shows_the_traceback():
    """`blocks --debug` re-raises: the traceback names the exception class."""
    result = run("--debug", "inspect", "secret/absent")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "BlockNotFound" in result.stderr


def test_ls_of_an_unknown_type_is_the_same_error_as_schema():
    """`ls --type` with a type no plugin and no saved block knows: one line, exit 1."""
    listed = user_error(run("ls", "--type", "secrte"), "Unknown block type 'secrte'", "secret")
    assert listed == user_error(run("schema", "secrte"))
    user_error(run("ls", "--type", "secrte", "--json"), "Unknown block type 'secrte'")


def test_ls_of_a_type_known_only_to_the_store_lists_its_blocks(tmp_path, monkeypatch):
    """A block whose plugin is gone still lists by type (no unknown-type error)."""
    plugin_folder(tmp_path, monkeypatch, "cli_database.py", DATABASE_PLUGIN)
    get_registry().block_type("cli-database")(host="h", password=Secret(value="p")).save("old")
    gone = {"CORE_BLOCKS_PLUGINS_DIRS": str(tmp_path / "elsewhere")}

    rows = as_json(ok("ls", "--type", "cli-database", "--json", env=gone))
    assert [r["name"] for r in rows] == ["old"]


def test_version_names_the_distribution():
    from importlib.metadata import version

    result = ok("--version")
    assert result.stdout == f"blocks (core-blocks) {version('core-blocks')}\n"


def test_create_and_delete_print_json_with_the_id():
    created = as_json(ok("create", "string/region", "--set", "value=eu", "--json"))
    row = get_store().get_document("string", "region")
    assert created == {"type": "string", "name": "region", "id": row.id}

    replaced = as_json(ok("create", "string/region", "--set", "value=us", "--overwrite",
                          "--json"))
    assert replaced == created

    deleted = ok("delete", "string/region", "--yes", "--json")
    assert as_json(deleted) == created
    assert get_store().get_document("string", "region") is None
    user_error(run("delete", "string/region", "--yes", "--json"), "No string block named")


# -- inspect ----------------------------------------------------------------------------


def test_inspect_obfuscates_secrets_and_show_secrets_reveals():
    ok("create", "webhook/hook", "--set", "url=https://hooks.example/SECRETPATH",
       "--set", 'headers={"Authorization": "Bearer SECRETTOKEN"}', "--set", "method=PUT")

    table = ok("inspect", "webhook/hook").stdout
    assert "********" in table and "PUT" in table
    assert "SECRETPATH" not in table and "SECRETTOKEN" not in table
    info = as_json(ok("inspect", "webhook/hook", "--json"))
    assert info["fields"]["url"] == info["fields"]["headers"] == "********"
    assert info["fields"]["method"] == "PUT"
    assert (info["type"], info["name"], info["version"]) == ("webhook", "hook", 1)
    assert info["secret_backend"] == "file"

    revealed = as_json(ok("inspect", "webhook/hook", "--show-secrets", "--json"))
    assert revealed["fields"]["url"] == "https://hooks.example/SECRETPATH"
    assert revealed["fields"]["headers"] == {"Authorization": "Bearer SECRETTOKEN"}
    assert "SECRETPATH" in ok("inspect", "webhook/hook", "--show-secrets").stdout


def test_inspect_reads_the_secret_backend_only_with_show_secrets():
    """With an unusable secret key, plain inspect works; --show-secrets is one clear error."""
    ok("create", "secret/token", "--set", "value=s3cret")
    wrong = {"CORE_BLOCKS_SECRET_KEY": Fernet.generate_key().decode()}

    assert as_json(ok("inspect", "secret/token", "--json", env=wrong))["fields"] == {
        "value": "********"}
    line = user_error(run("inspect", "secret/token", "--show-secrets", env=wrong), "decrypt")
    assert "s3cret" not in line


def test_inspect_expands_an_anonymous_nested_block_with_its_secret_hidden(database_type):
    database_type(host="db", password=Secret(value="nested-pw")).save("main")

    fields = as_json(ok("inspect", "cli-database/main", "--json"))["fields"]
    assert fields == {"host": "db", "password": {"type": "secret", "value": "********"}}
    revealed = as_json(ok("inspect", "cli-database/main", "--json", "--show-secrets"))
    assert revealed["fields"]["password"]["value"] == "nested-pw"


# -- delete -----------------------------------------------------------------------------


def test_delete_with_yes_removes_the_block_and_its_secret():
    ok("create", "secret/token", "--set", "value=s3cret")
    row = get_store().get_document("secret", "token")
    backend = backend_named(row.secret_backend)
    assert backend.read(row.secret_key, row.ref) == {"value": "s3cret"}

    assert "Deleted secret/token" in ok("delete", "secret/token", "--yes").stdout
    assert get_store().get_document("secret", "token") is None
    assert backend.read(row.secret_key, row.ref) is None
    assert as_json(ok("ls", "--json")) == []


def test_delete_without_a_tty_needs_yes():
    ok("create", "string/keep", "--set", "value=v")
    user_error(run("delete", "string/keep"), "--yes")
    assert String.load("keep").value == "v"


def test_delete_of_a_referenced_block_is_refused_naming_the_referrer(database_type):
    ok("create", "secret/db-pw", "--set", "value=pw")
    ok("create", "cli-database/main", "--set", "host=h", "--set", "password=secret/db-pw")

    user_error(run("delete", "secret/db-pw", "--yes"), "cli-database/main", "password")
    assert Secret.load("db-pw").get() == "pw"

    ok("delete", "cli-database/main", "--yes")
    ok("delete", "secret/db-pw", "--yes")
    assert as_json(ok("ls", "--all", "--json")) == []


def test_delete_asks_on_a_terminal():
    """On a TTY `delete` asks; 'n' keeps the block (exit 1), 'y' deletes it."""
    ok("create", "string/keep", "--set", "value=v")

    child = spawn("delete", "string/keep")
    child.expect(r"Delete string/keep\?")
    child.sendline("n")
    assert finish(child) == 1
    assert String.load("keep").value == "v"

    child = spawn("delete", "string/keep")
    child.expect(r"Delete string/keep\?")
    child.sendline("y")
    assert finish(child) == 0
    assert String.list() == []


# -- prompts on a terminal ----------------------------------------------------------------


def test_prompt_hides_secret_input_and_saves_it():
    """`create secret/x` on a TTY prompts for value without echoing it, then saves it."""
    typed = "typed-at-the-prompt-4f1c"
    child = spawn("create", "secret/x")
    child.expect("value")
    child.waitnoecho(timeout=10)
    child.sendline(typed)
    assert finish(child) == 0

    assert "Saved secret/x" in child.transcript.getvalue()
    assert typed not in child.transcript.getvalue()
    assert Secret.load("x").get() == typed


def test_prompt_echoes_plain_input_and_hides_webhook_url():
    """Only secret fields are hidden: a string value is echoed, a webhook url is not."""
    child = spawn("create", "string/region")
    child.expect("value")
    child.sendline("eu-west-1")
    assert finish(child) == 0
    assert "eu-west-1" in child.transcript.getvalue()
    assert String.load("region").value == "eu-west-1"

    url = "https://hooks.example/typed-url-77aa"
    child = spawn("create", "webhook/hook", "--set", "method=PUT")
    child.expect("url")
    child.waitnoecho(timeout=10)
    child.sendline(url)
    assert finish(child) == 0
    assert url not in child.transcript.getvalue()
    hook = Webhook.load("hook")
    assert hook.url.get_secret_value() == url and hook.method == "PUT"


def test_a_fully_interactive_create_offers_optional_secrets_hidden():
    """With no --set, optional fields are offered too, secret ones hidden; Enter keeps each
    default, and answering no to the offer keeps them all."""
    url, auth = "https://hooks.example/typed-77ab", '{"Authorization": "Bearer typed-9c2e"}'
    child = spawn("create", "webhook/full")
    child.expect("url")
    child.waitnoecho(timeout=10)
    child.sendline(url)
    child.expect(r"Set optional fields \(method, headers, .*\)\?")
    child.sendline("y")
    child.expect(r"method.*\(Enter: POST\)")
    child.sendline("")
    child.expect(r"headers.*\(Enter: default\)")
    child.waitnoecho(timeout=10)
    child.sendline(auth)
    for _ in ("body_template", "timeout_seconds", "idempotent"):
        child.expect(r"\(Enter: ")
        child.sendline("")
    assert finish(child) == 0
    assert "typed-9c2e" not in child.transcript.getvalue()
    full = Webhook.load("full")
    assert full.headers.get_secret_value() == json.loads(auth)
    assert (full.method, full.timeout_seconds) == ("POST", 10.0)

    child = spawn("create", "webhook/skipped")
    child.expect("url")
    child.sendline(url)
    child.expect(r"Set optional fields")
    child.sendline("")
    assert finish(child) == 0
    assert Webhook.load("skipped").headers.get_secret_value() == {}


def test_prompts_for_each_missing_field_including_a_nested_block(database_type):
    ok("create", "secret/db-pw", "--set", "value=pw")
    child = spawn("create", "cli-database/main")
    child.expect("host")
    child.sendline("db.local")
    child.expect(r"password.*TYPE/NAME")
    child.sendline("secret/db-pw")
    assert finish(child) == 0

    loaded = Block.load("cli-database/main")
    assert loaded.host == "db.local" and loaded.password.get() == "pw"


def test_ctrl_c_at_a_prompt_saves_nothing_and_exits_130():
    """Interrupting the prompt must not look like success to a calling script."""
    child = spawn("create", "secret/x")
    child.expect("value")
    child.waitnoecho(timeout=10)
    child.sendintr()
    assert finish(child) == 130
    assert Secret.list() == []


# -- doctor -----------------------------------------------------------------------------


def orphan_a_secret(name: str = "leftover") -> str:
    """Delete a block while its secret cannot be removed (wrong key): the secret is left."""
    ok("create", f"secret/{name}", "--set", "value=left-behind")
    key = get_store().get_document("secret", name).secret_key
    ok("delete", f"secret/{name}", "--yes",
       env={"CORE_BLOCKS_SECRET_KEY": Fernet.generate_key().decode()})
    assert backend_named("file").read(key, f"secret/{name}") == {"value": "left-behind"}
    return key


def finding(report: dict, area: str, name: str) -> dict:
    [found] = [f for f in report["findings"] if f["area"] == area and f["name"] == name]
    return found


def test_doctor_on_a_healthy_home():
    """Store, plugins and the selected backend are reported ok; exit 0."""
    ok("create", "secret/token", "--set", "value=v")
    report = as_json(ok("doctor", "--json"))
    assert report["ok"] is True
    assert "1 documents" in finding(report, "store", "sqlite")["detail"]
    assert "selected" in finding(report, "secrets", "file")["detail"]
    assert finding(report, "documents", "orphaned secrets")["ok"] is True
    assert "orphaned secrets" in ok("doctor").stdout


def test_doctor_reports_and_fix_removes_an_orphaned_secret():
    key = orphan_a_secret()

    report = as_json(run("doctor", "--json"))
    assert report["ok"] is False
    orphans = finding(report, "documents", "orphaned secrets")
    assert orphans["ok"] is False and "doctor --fix" in orphans["detail"]

    fixed = run("doctor", "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert f"removed orphaned secret {key}" in fixed.stdout
    assert backend_named("file").read(key, "secret/leftover") is None
    assert as_json(ok("doctor", "--json"))["ok"] is True


def test_doctor_exits_1_on_an_orphaned_secret():
    """README: doctor "exits 1 on a problem"."""
    orphan_a_secret()
    result = run("doctor")
    assert "PROBLEM" in result.stdout
    assert result.returncode == 1


def test_doctor_exits_1_on_a_broken_plugin(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "broken_plugin.py").write_text("raise ImportError('cannot find vendor sdk')\n")
    env = {"CORE_BLOCKS_PLUGINS_DIRS": str(folder)}

    report = as_json(run("doctor", "--json", env=env))
    broken = finding(report, "plugins", "file:broken_plugin")
    assert broken["ok"] is False and "cannot find vendor sdk" in broken["detail"]
    assert run("doctor", env=env).returncode == 1


# -- in-process runner, for quick checks ------------------------------------------------


def test_cli_runner_agrees_with_the_console_script():
    """click's CliRunner (in-process) lists what the console script saved."""
    ok("create", "string/region", "--set", "value=eu")
    result = CliRunner().invoke(cli, ["ls", "--json"])
    assert result.exit_code == 0, result.output
    assert [r["name"] for r in json.loads(result.output)] == ["region"]
    assert json.loads(CliRunner().invoke(cli, ["inspect", "string/region", "--json"]).output)[
        "fields"] == {"value": "eu"}
