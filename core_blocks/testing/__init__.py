"""Test support: the pytest plugin (isolated store and secrets) and contract tests.

Installed as a pytest plugin through the `pytest11` entry point; its fixtures are opt-in.
"""

from core_blocks.testing.isolation import isolated_home, reset_state

__all__ = ["isolated_home", "reset_state"]
