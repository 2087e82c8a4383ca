"""Loads of a block that another process keeps overwriting never fail, on every core backend
(the aws-secrets-manager backend has the same test in tests/aws)."""

from __future__ import annotations

import os

import pytest

from core_blocks import Secret
from core_blocks.secrets.env_backend import variable_prefix
from core_blocks.testing import reset_state
from tests.save_load_race import overwrite_while_loading


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
