"""The store's schema versions, and which owner module adds what at each.

Each owner module (one per group of tables) holds `MIGRATIONS`: schema version -> the
statements that move its tables to that version. Versions are global and only grow, so a
store records one number, and opening it runs, in version order, every owner's steps above
that number (owners in the order below within a version). Never edit a released step: add a
version. The owners are imported only when a store needs migrating.
"""

from __future__ import annotations

from importlib import import_module

SCHEMA_VERSION = 5

# The owner modules of core_blocks.store, in the order their steps run within one version.
OWNERS = ("documents", "runs", "artifacts", "concurrency")


def steps() -> dict[int, list[str]]:
    """Schema version -> every owner's statements for it, in the order they run."""
    by_version: dict[int, list[str]] = {}
    for owner in OWNERS:
        migrations = import_module(f"core_blocks.store.{owner}").MIGRATIONS
        for version, statements in migrations.items():
            if not 1 <= version <= SCHEMA_VERSION:
                raise AssertionError(f"core_blocks.store.{owner} has a migration to version "
                                     f"{version}; raise SCHEMA_VERSION to {version} first.")
            by_version.setdefault(version, []).extend(statements)
    return dict(sorted(by_version.items()))


def statements_after(version: int) -> list[str]:
    """The statements that move a store at `version` (0: empty) to SCHEMA_VERSION."""
    return [s for number, statements in steps().items() if number > version
            for s in statements]
