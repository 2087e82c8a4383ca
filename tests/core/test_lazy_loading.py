"""Loading a block does no work it can skip: no plugin scan for a core type or a built-in
secret backend, and per-class introspection and settings computed once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pydantic import Field, SecretStr

from core_blocks import Block, Secret
from core_blocks.block import block_fields, secret_fields
from core_blocks.errors import PluginError
from core_blocks.registry import collected_registry, get_registry
from core_blocks.secrets.file_backend import FileSecretBackend
from core_blocks.secrets.selection import backend_class
from core_blocks.settings import current
from core_blocks.types.webhook import Webhook
from tests.helpers import plugin_folder

PROBE = textwrap.dedent("""\
    import sys
    from core_blocks import Secret
    import core_blocks.registry as registry
    Secret(value="v").save("fresh", overwrite=True)
    assert Secret.load("fresh").get() == "v"
    plugins = sorted(m for m in sys.modules if m.split(".")[0].startswith("prefect_"))
    print(len(registry._registries), plugins)
    """)


def test_a_fresh_process_saves_and_loads_a_core_type_without_a_plugin_scan(block_home):
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "0 []", out.stderr


def test_builtin_backends_need_no_registry_and_plugins_come_from_it(tmp_path, monkeypatch):
    plugin_folder(tmp_path, monkeypatch, "vault_backend.py", textwrap.dedent("""\
        from core_blocks import hookimpl
        from core_blocks.secrets.base import SecretBackend

        class Vault(SecretBackend):
            name = "vault-probe"

        @hookimpl
        def register_secret_backends():
            return [Vault]
        """))
    settings = current()
    assert backend_class("file", settings) is FileSecretBackend
    assert collected_registry(settings) is None  # nothing was scanned for it

    assert backend_class("vault-probe", settings).name == "vault-probe"
    assert collected_registry(settings) is get_registry(settings)


def test_a_plugin_claiming_a_builtin_backend_name_is_an_error_once_scanned(tmp_path,
                                                                          monkeypatch):
    plugin_folder(tmp_path, monkeypatch, "fake_file.py", textwrap.dedent("""\
        from core_blocks import hookimpl
        from core_blocks.secrets.base import SecretBackend

        class FakeFile(SecretBackend):
            name = "file"

        @hookimpl
        def register_secret_backends():
            return [FakeFile]
        """))
    get_registry()

    with pytest.raises(PluginError, match="Secret backend 'file' is claimed by plugins"):
        backend_class("file", current())


def test_core_block_types_are_the_core_plugins():
    """core_blocks.builtins names exactly the types the core plugin registers, so the registry
    knows them without importing the plugin."""
    from core_blocks import plugin
    from core_blocks.builtins import BLOCK_TYPES, is_core_block_type
    from core_blocks.plugin_loading import loading_plugins

    with loading_plugins():  # as the registry calls it
        registered = plugin.register_block_types()
    assert Secret in registered and Webhook in registered
    assert [f"{c.__module__}:{c.__qualname__}" for c in registered] == list(BLOCK_TYPES)
    assert all(is_core_block_type(c) for c in registered)

    class NotTheCoreSecret(Block):  # a user's class is not a core type
        value: str = Field(description="Value")

    assert not is_core_block_type(NotTheCoreSecret)


class Credentials(Block):
    """A nested block for the cache tests."""

    token: SecretStr = Field(description="Token")


class Job(Block):
    """Holds a nested block and a secret."""

    credentials: Credentials = Field(description="Credentials")
    password: SecretStr = Field(description="Password")


def test_field_introspection_is_computed_once_per_class():
    assert block_fields(Job) == {"credentials": (Credentials,)}
    assert block_fields(Job) is block_fields(Job)
    assert secret_fields(Job) == {"password": "str"}
    assert secret_fields(Credentials) == {"token": "str"}  # its own, not its neighbour's
    assert secret_fields(Job) is secret_fields(Job)


def test_settings_are_parsed_once_and_follow_the_environment(monkeypatch, tmp_path):
    assert current() is current()
    monkeypatch.setenv("CORE_BLOCKS_HOME", str(tmp_path / "elsewhere"))
    assert current().home == tmp_path / "elsewhere"
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "ENV")
    assert current().secret_backend == "env"
