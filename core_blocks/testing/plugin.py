"""pytest fixtures for testing your own blocks and flows without touching your real blocks.

    def test_my_flow(block_home):
        Secret(value="x").save("token")       # lands in a temp store, not ~/.core_blocks

Or for every test, with no fixture to forget, in the project's pytest configuration:

    [tool.pytest.ini_options]
    core_blocks_isolate = true
"""

from __future__ import annotations

import secrets

import pytest

from core_blocks.testing.isolation import isolated_home

ISOLATE_OPTION = "core_blocks_isolate"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(ISOLATE_OPTION, type="bool", default=False,
                  help="core-blocks: run every test in its own temp CORE_BLOCKS_HOME with the "
                       "'file' secret backend (the block_home fixture), never ~/.core_blocks")


@pytest.fixture(autouse=True)
def _core_blocks_isolate(request: pytest.FixtureRequest) -> None:
    """With `core_blocks_isolate = true`, every test runs inside `block_home`.

    Autouse, so it is set up before the test's own function-scoped fixtures.
    """
    if request.config.getini(ISOLATE_OPTION):
        request.getfixturevalue("block_home")


@pytest.fixture
def block_home(tmp_path_factory):
    """A temp CORE_BLOCKS_HOME with its own SQLite store and encrypted-file secrets."""
    with isolated_home(tmp_path_factory.mktemp("core_blocks_home")) as home:
        yield home


@pytest.fixture
def canary() -> str:
    """A unique secret value to plant and then look for where it must never appear."""
    return f"canary-{secrets.token_hex(12)}"
