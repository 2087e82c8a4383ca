"""Loads of a block that another process keeps overwriting never fail, on every core backend
(the aws-secrets-manager backend has the same test in tests/aws)."""

from __future__ import annotations

import os

import pytest

from core_blocks import Secret
from core_blocks.secrets.env_backend import variable_prefix
from core_blocks.testing import reset_state
from tests.helpers import plugin_folder
from tests.save_load_race import overwrite_while_loading

STRICT_BACKEND = '''
from core_blocks import hookimpl
from core_blocks.errors import SecretBackendError
from core_blocks.secrets.file_backend import FileSecretBackend


class StrictFileBackend(FileSecretBackend):
    """The file backend, except that a key not there is an error rather than None."""

    name = "strict-file"

    def read(self, key, ref):
        values = super().read(key, ref)
        if values is None:
            raise SecretBackendError(f"No secret stored under {key}.")
        return values


@hookimpl
def register_secret_backends():
    return [StrictFileBackend]
'''


@pytest.fixture
def on_keyring(secret_service, monkeypatch, block_home):
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "keyring")
    reset_state()
    yield
    reset_state()
    Secret.delete("raced")  # and with it the keyring item of its last save


def test_keyring_loads_never_fail_while_another_process_overwrites(on_keyring):
    """The reported race: a load found the keyring item of the key it read deleted meanwhile
    (ItemNotFoundException), and failed instead of following the document to its new key."""
    result = overwrite_while_loading()

    assert result.failures == [], str(result)
    assert result.values_seen > 1 and result.saves > 1, str(result)


def test_file_loads_never_fail_while_another_process_overwrites(block_home):
    result = overwrite_while_loading()

    assert result.failures == [], str(result)
    assert result.values_seen > 1 and result.saves > 1, str(result)


def test_env_loads_never_fail_while_another_process_overwrites(block_home):
    """A container reading from the environment while the document is being overwritten."""
    loader_env = {**os.environ, "CORE_BLOCKS_SECRET_BACKEND": "env",
                  variable_prefix("secret/raced") + "VALUE": "value-from-env"}

    result = overwrite_while_loading(loader_env=loader_env)

    assert result.failures == [], str(result)
    assert result.saves > 1 and result.loads > 1, str(result)


def test_loads_never_fail_on_a_backend_that_raises_for_a_deleted_key(block_home, tmp_path,
                                                                     monkeypatch):
    """A plugin backend may fail, rather than find nothing, when the key it reads was deleted
    meanwhile: the load sees that the document moved on and reads it again."""
    plugin_folder(tmp_path, monkeypatch, "strict_file.py", STRICT_BACKEND)
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "strict-file")
    reset_state()

    result = overwrite_while_loading()

    assert result.failures == [], str(result)
    assert result.values_seen > 1 and result.saves > 1, str(result)
