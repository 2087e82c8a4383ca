"""The plugin contract (core_blocks.hookspecs): every hook is documented and tested.

The meta-test reads tests/ as text: a hook named `register_things` needs a test function
`test_hook_register_things` somewhere under tests/, which exercises it through a plugin.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from core_blocks import Block, Secret, hookspecs
from core_blocks.registry import get_registry
from core_blocks.secrets import backend_named
from core_blocks.testing import reset_state
from tests.helpers import BLOCKS, memory_vault_plugin

TESTS = Path(__file__).resolve().parents[1]
_SPEC_ATTR = f"{hookspecs.hookspec.project_name}_spec"  # set on each function by @hookspec


def hook_names(module: ModuleType) -> list[str]:
    """The hooks a hookspec module declares."""
    return sorted(name for name, value in vars(module).items()
                  if inspect.isfunction(value) and hasattr(value, _SPEC_ATTR))


def undocumented(module: ModuleType) -> list[str]:
    return [name for name in hook_names(module)
            if not (inspect.getdoc(getattr(module, name)) or "").strip()]


def untested(names: list[str], tests_root: Path) -> list[str]:
    text = "\n".join(path.read_text(encoding="utf-8") for path in tests_root.rglob("*.py"))
    return [name for name in names
            if not re.search(rf"^\s*(async\s+)?def test_hook_{name}\(", text, re.MULTILINE)]


# -- the meta-test -------------------------------------------------------------------------


def test_the_contract_declares_the_documented_hooks():
    assert {"register_block_types", "register_secret_backends", "register_commands"} <= set(
        hook_names(hookspecs))


@pytest.mark.parametrize("hook", hook_names(hookspecs))
def test_every_hook_has_a_docstring_and_a_test(hook):
    assert hook not in undocumented(hookspecs), f"hookspec {hook} has no docstring"
    assert hook not in untested([hook], TESTS), (
        f"hookspec {hook} has no test: add `def test_hook_{hook}(...)` under tests/"
    )


def test_the_meta_test_catches_a_hook_without_docstring_or_test(tmp_path):
    fake = ModuleType("fake_hookspecs")
    exec(textwrap.dedent("""\
        import pluggy
        hookspec = pluggy.HookspecMarker("core_blocks")

        @hookspec
        def register_documented():
            '''Return things.'''

        @hookspec
        def register_bare():
            pass

        def not_a_hook():
            pass
        """), fake.__dict__)
    (tmp_path / "test_fake.py").write_text(
        "def test_hook_register_documented():\n    pass\n"
        "def helper_test_hook_register_bare():\n    pass\n")

    assert hook_names(fake) == ["register_bare", "register_documented"]
    assert undocumented(fake) == ["register_bare"]
    assert untested(hook_names(fake), tmp_path) == ["register_bare"]


# -- each hook through a plugin file -------------------------------------------------------


def _use_plugin(monkeypatch, folder: Path, stem: str, source: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.py").write_text(textwrap.dedent(source))
    monkeypatch.setenv("CORE_BLOCKS_PLUGINS_DIRS", os.pathsep.join([str(folder)]))
    reset_state()
    return get_registry()


def test_hook_register_block_types(tmp_path, monkeypatch):
    registry = _use_plugin(monkeypatch, tmp_path / "plugins", "hook_block_types", '''\
        from pydantic import Field, SecretStr

        from core_blocks import Block, hookimpl

        CALLS = []


        class HookProbeTable(Block):
            """A warehouse table."""

            name: str = Field(description="Table name")
            token: SecretStr = Field(description="Access token")


        class HookProbeView(Block):
            """A warehouse view."""

            query: str = Field(description="SQL")


        @hookimpl
        def register_block_types():
            CALLS.append(1)
            return [HookProbeTable, HookProbeView]
        ''')
    module = sys.modules["core_blocks_plugins.hook_block_types"]

    assert "file:hook_block_types" not in registry.errors
    assert registry.plugins["file:hook_block_types"].block_types == [
        "hook-probe-table", "hook-probe-view"]
    table = registry.block_type("hook-probe-table")
    assert table is module.HookProbeTable
    assert registry.block_type("hook-probe-view") is module.HookProbeView
    assert registry.plugin_of("hook-probe-table").name == "file:hook_block_types"
    registry.block_type("hook-probe-view")
    assert module.CALLS == [1]  # called once, not per lookup

    table(name="orders", token="t0ken").save("orders")
    loaded = Block.load("hook-probe-table/orders")
    assert type(loaded) is table
    assert loaded.token.get_secret_value() == "t0ken"
    assert "hook-probe-table/orders" in Block.list()


def test_hook_register_secret_backends(tmp_path, monkeypatch, canary):
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "hook-probe-vault")
    registry = _use_plugin(monkeypatch, tmp_path / "plugins", "hook_secret_backends",
                           memory_vault_plugin("hook-probe-vault"))
    module = sys.modules["core_blocks_plugins.hook_secret_backends"]

    assert "file:hook_secret_backends" not in registry.errors
    assert registry.plugins["file:hook_secret_backends"].secret_backends == ["hook-probe-vault"]
    assert registry.secret_backend_class("hook-probe-vault") is module.MemoryVault
    assert registry.secret_backends["keyring"][1] == "core"  # the core's are still there
    assert isinstance(backend_named("hook-probe-vault"), module.MemoryVault)

    Secret(value=canary).save("api-key")
    assert [values["value"] for values in module.VAULT.values()] == [canary]
    assert Secret.load("api-key").get() == canary


def test_hook_register_commands(tmp_path, monkeypatch):
    """A plugin file adds a lazily imported `blocks probe` group: listed by --help without
    importing it, run on use; `blocks ls` never calls the hook."""
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "hook_probe_commands.py").write_text(textwrap.dedent('''\
        import click


        @click.group()
        def probe():
            """Probe commands."""


        @probe.command()
        @click.option("--name", default="world")
        def greet(name):
            click.echo(f"hello {name}")
        '''))
    calls = tmp_path / "hook-calls"
    _use_plugin(monkeypatch, tmp_path / "plugins", "hook_commands", f'''\
        from pathlib import Path

        from core_blocks import hookimpl


        @hookimpl
        def register_commands(cli):
            with Path({str(calls)!r}).open("a") as calls:
                calls.write("called\\n")
            from core_blocks.cli.lazy_command import LazyCommand

            cli.add_command(LazyCommand("probe", "hook_probe_commands:probe",
                                        help="Probe the warehouse."))
        ''')
    env = {**os.environ, "PYTHONPATH": str(modules)}

    def blocks(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([BLOCKS, *args], capture_output=True, text=True, env=env,
                              timeout=60)

    assert blocks("ls").returncode == 0
    assert not calls.exists()  # a built-in command loads no plugin

    listed = blocks("--help")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^\s+probe\s+Probe the warehouse\.$", listed.stdout, re.MULTILINE)
    assert calls.read_text() == "called\n"

    greeted = blocks("probe", "greet", "--name", "dbt")
    assert (greeted.returncode, greeted.stdout) == (0, "hello dbt\n"), greeted.stderr
    assert "greet" in blocks("probe", "--help").stdout

    doctor = json.loads(blocks("doctor", "--json").stdout)
    [plugin] = [f for f in doctor["findings"] if f["name"] == "file:hook_commands"]
    assert plugin["ok"] and "blocks probe" in plugin["detail"]

    probe = ("import sys\nfrom core_blocks.cli.app import main\n"
             "assert main(['--help']) == 0\n"
             "print('hook_probe_commands' in sys.modules, file=sys.stderr)")
    listed_in_process = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                                       text=True, env=env, timeout=60)
    assert listed_in_process.stderr.strip() == "False"  # --help imported nothing of it
