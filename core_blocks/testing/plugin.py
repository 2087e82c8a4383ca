"""pytest fixtures for testing your own blocks and flows without touching your real blocks.

    def test_my_flow(block_home):
        Secret(value="x").save("token")       # lands in a temp store, not ~/.core_blocks
"""

from __future__ import annotations

import secrets

import pytest

from core_blocks.testing.isolation import isolated_home


@pytest.fixture
def block_home(tmp_path_factory):
    """A temp CORE_BLOCKS_HOME with its own SQLite store and encrypted-file secrets."""
    with isolated_home(tmp_path_factory.mktemp("core_blocks_home")) as home:
        yield home


@pytest.fixture
def canary() -> str:
    """A unique secret value to plant and then look for where it must never appear."""
    return f"canary-{secrets.token_hex(12)}"
