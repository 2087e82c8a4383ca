"""The store package: each group of tables has one owner module holding its migrations and
every query on it; the schema versions they add up to; and what `blocks ls` imports."""

import re
import subprocess
import sys
from pathlib import Path

import core_blocks
from core_blocks.store import SCHEMA_VERSION, get_store
from core_blocks.store.migrations import OWNERS, statements_after, steps

PACKAGE = Path(core_blocks.__file__).parent
# SQL that reads or writes a table; the file backend's secrets.db is a database of its own.
SQL = re.compile(r"\b(INSERT INTO|DELETE FROM|UPDATE \w+ SET|SELECT\b.*\bFROM|CREATE TABLE)\b")
OWN_DATABASES = {PACKAGE / "secrets" / "file_backend.py"}


def test_no_module_outside_the_store_package_holds_sql():
    outside = [path.relative_to(PACKAGE).as_posix()
               for path in PACKAGE.rglob("*.py")
               if PACKAGE / "store" not in path.parents and path not in OWN_DATABASES
               and SQL.search(path.read_text())]

    assert outside == []


def test_every_table_has_exactly_one_owner():
    created = {}
    for owner in OWNERS:
        module = __import__(f"core_blocks.store.{owner}", fromlist=["MIGRATIONS"])
        for statements in module.MIGRATIONS.values():
            for table in re.findall(r"CREATE TABLE (\w+)", " ".join(statements)):
                assert table not in created, f"{table} is created by {created[table]} and {owner}"
                created[table] = owner

    assert created == {
        "block_types": "documents", "block_documents": "documents",
        "block_references": "documents", "secret_journal": "documents",
        "runs": "runs", "run_states": "runs", "run_artifacts": "artifacts",
        "concurrency_limits": "concurrency", "concurrency_leases": "concurrency"}


def test_the_owners_steps_cover_every_schema_version_in_order():
    assert list(steps()) == list(range(1, SCHEMA_VERSION + 1))
    assert statements_after(SCHEMA_VERSION) == []
    # Version 2 adds the run tables before the concurrency tables, as it always did.
    after_one = statements_after(1)
    assert after_one.index(next(s for s in after_one if "CREATE TABLE runs" in s)) < (
        after_one.index(next(s for s in after_one if "CREATE TABLE concurrency_limits" in s)))
    assert "CREATE TABLE run_artifacts" in " ".join(statements_after(3))


def test_listing_blocks_leaves_the_run_and_concurrency_owners_unimported(block_home):
    get_store().schema_version()  # the store exists: no migration runs at the next open
    probe = ("import sys; from core_blocks.cli.app import main\n"
             "try:\n    main(['ls'])\nexcept SystemExit:\n    pass\n"
             "print(*sorted(m for m in sys.modules if m.startswith('core_blocks.store.')))")

    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)

    loaded = out.stdout.split()
    assert "core_blocks.store.documents" in loaded
    assert not {"core_blocks.store.runs", "core_blocks.store.artifacts",
                "core_blocks.store.concurrency"} & set(loaded)
