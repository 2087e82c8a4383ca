"""Test support: the pytest plugin (isolated store and secrets) and contract tests.

Installed as a pytest plugin through the `pytest11` entry point; its fixtures are opt-in, or
applied to every test by the ini option `core_blocks_isolate = true`.
"""

from core_blocks.testing.isolation import isolated_home, reset_state

__all__ = ["isolated_home", "reset_state"]
