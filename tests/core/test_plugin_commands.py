"""Commands added by plugins (the register_commands hook): a broken plugin is reported and
breaks nothing else, built-in commands cannot be replaced, and built-ins never load plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import BLOCKS

GOOD = '''
from core_blocks import hookimpl
import click


@click.command("hello")
def hello():
    """Say hello."""
    click.echo("hello from a plugin")


@hookimpl
def register_commands(cli):
    cli.add_command(hello)
'''

FAILING = '''
from core_blocks import hookimpl
import click


@hookimpl
def register_commands(cli):
    cli.add_command(click.Command("half-added"))
    raise RuntimeError("no profiles dir")
'''

TAKES_LS = '''
from core_blocks import hookimpl
import click


@hookimpl
def register_commands(cli):
    cli.add_command(click.Command("ls", callback=lambda: click.echo("hijacked")))
'''

MISSING_TARGET = '''
from core_blocks import hookimpl


@hookimpl
def register_commands(cli):
    from core_blocks.cli.lazy_command import LazyCommand

    cli.add_command(LazyCommand("vanish", "no_such_module_4d2e:group", help="Gone."))
'''


@pytest.fixture
def plugins(tmp_path: Path):
    """Write plugin files into tmp_path/plugins; returns a `blocks` runner using that folder."""
    folder = tmp_path / "plugins"
    folder.mkdir()

    def use(**files: str):
        for stem, source in files.items():
            (folder / f"{stem}.py").write_text(textwrap.dedent(source))

        def blocks(*args: str) -> subprocess.CompletedProcess:
            env = {**os.environ, "CORE_BLOCKS_PLUGINS_DIRS": str(folder)}
            return subprocess.run([BLOCKS, *args], capture_output=True, text=True, env=env,
                                  stdin=subprocess.DEVNULL, timeout=60)
        return blocks
    return use


def test_a_failing_plugin_is_reported_and_the_others_still_work(plugins, tmp_path):
    blocks = plugins(good_commands=GOOD, failing_commands=FAILING)

    listed = blocks("--help")
    assert listed.returncode == 0
    assert "hello" in listed.stdout and "half-added" not in listed.stdout  # nothing half-added
    [warning] = listed.stderr.splitlines()
    path = tmp_path / "plugins" / "failing_commands.py"
    assert warning == (f"Warning: Plugin 'file:failing_commands' ({path}) failed in "
                       "register_commands: RuntimeError: no profiles dir")

    hello = blocks("hello")
    assert (hello.returncode, hello.stdout, hello.stderr) == (0, "hello from a plugin\n", "")
    assert blocks("ls").returncode == 0

    report = json.loads(blocks("doctor", "--json").stdout)
    failed = {f["name"]: f for f in report["findings"] if f["area"] == "plugins"}
    assert failed["file:failing_commands"]["ok"] is False
    assert "register_commands: RuntimeError" in failed["file:failing_commands"]["detail"]
    assert failed["file:good_commands"]["ok"] is True
    assert blocks("doctor").returncode == 1


def test_an_unknown_command_mentions_failed_plugins(plugins):
    blocks = plugins(failing_commands=FAILING)
    result = blocks("wh")  # not `dbt`: core-blocks-dbt adds that one
    assert result.returncode == 2
    assert "No such command 'wh'. Some plugins failed to add commands: see blocks doctor." in (
        result.stderr)


def test_a_plugin_cannot_replace_a_built_in_command(plugins):
    blocks = plugins(takes_ls=TAKES_LS)

    listed = blocks("ls", "--json")
    assert (listed.returncode, json.loads(listed.stdout)) == (0, [])
    helped = blocks("--help")
    assert "replaces the built-in command(s) ls; give its commands other names" in helped.stderr
    assert blocks("ls").stdout.strip() != "hijacked"


def test_a_lazy_command_that_cannot_be_imported_is_one_line_exit_1(plugins):
    blocks = plugins(missing_target=MISSING_TARGET)

    assert "vanish" in blocks("--help").stdout  # listed without importing it
    result = blocks("vanish", "anything")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: Command 'vanish' failed to load from no_such_module_4d2e:group: "
        "ModuleNotFoundError: No module named 'no_such_module_4d2e'. Reinstall the plugin "
        "that adds it; blocks doctor lists the plugins.")


def test_built_in_commands_never_import_plugin_files(plugins, tmp_path):
    marker = tmp_path / "imported"
    blocks = plugins(noisy=f"from pathlib import Path\nPath({str(marker)!r}).touch()\n" + GOOD)

    for args in (["ls"], ["ls", "--json"], ["runs", "ls"], ["--version"]):
        assert blocks(*args).returncode == 0
        assert not marker.exists(), args
    assert blocks("hello").stdout == "hello from a plugin\n"
    assert marker.exists()


def test_help_lists_plugin_commands_without_importing_block_types_or_rich():
    """`blocks --help` loads the plugin modules but no block type, pydantic or rich: the
    start-up budget (bench/cli_startup.py) depends on it."""
    probe = ("import sys, io, contextlib\nfrom core_blocks.cli.app import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['--help']) == 0\n"
             "print(*sorted({m.split('.')[0] for m in sys.modules}"
             " & {'pydantic', 'rich', 'typer', 'sqlite3', 'boto3'}))")
    env = {**os.environ, "CORE_BLOCKS_PLUGINS_DIRS": ""}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
