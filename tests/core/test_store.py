"""The store: schema versions and migrations, the SQLite file, optimistic concurrency, block
types and documents, and clear errors for a broken store. Behaviour runs on SQLite and
PostgreSQL alike (`any_store`); only file-level checks are SQLite's own.
"""

import os
import re
import sqlite3
import stat
import threading
import time

import pytest
from pydantic import SecretStr

from core_blocks import Block, Secret, String
from core_blocks.errors import BlockConflictError, BlockExistsError, StoreError
from core_blocks.settings import current
from core_blocks.store import SCHEMA_VERSION, Store, get_store
from core_blocks.store.migrations import statements_after
from core_blocks.testing import reset_state
from tests.helpers import secret_keys

TABLES = ("core_blocks_meta", "block_types", "block_documents", "block_references",
          "secret_journal")


class Account(Block):
    """An account with a plain and a secret field."""

    owner: str
    balance: int
    pin: SecretStr


def raw_execute(*statements: str) -> None:
    """Run statements on the current store's database, bypassing core-blocks."""
    url = current().store_url
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
    else:
        import psycopg

        conn = psycopg.connect(url, autocommit=True)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()



def referenced_keys() -> set[str]:
    rows = get_store().list_documents(include_anonymous=True)
    return {r.secret_key for r in rows if r.secret_key}


# -- schema versions ------------------------------------------------------------------------


def test_a_new_store_is_created_at_the_current_schema_version(any_store):
    """Opening an empty database creates every table and records the version."""
    store = get_store()

    assert store.schema_version() == SCHEMA_VERSION
    assert store.query("SELECT value FROM core_blocks_meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)]
    for table in TABLES:
        store.query(f"SELECT COUNT(*) FROM {table}")  # raises if the table is missing
    assert store.count_documents() == 0


def test_an_older_store_migrates_forward_when_opened(any_store):
    """A store at version 0 (meta table only) gets every table on open, and then works."""
    raw_execute("CREATE TABLE core_blocks_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                "INSERT INTO core_blocks_meta (key, value) VALUES ('schema_version', '0')")
    reset_state()

    Account(owner="ann", balance=1, pin="1234").save("ann")

    assert get_store().schema_version() == SCHEMA_VERSION
    assert Account.load("ann").pin.get_secret_value() == "1234"


@pytest.mark.parametrize("old_version", range(1, SCHEMA_VERSION))
def test_a_store_with_documents_migrates_forward_keeping_them(any_store, old_version):
    """Roll a store back to an older version (drop the later tables and columns): opening
    migrates it."""
    Account(owner="ann", balance=1, pin="1234").save("ann")
    statements = statements_after(old_version)
    later = [re.match(r"\s*CREATE TABLE (\w+)", s).group(1)
             for s in statements if re.match(r"\s*CREATE TABLE", s)]
    added = [re.match(r"\s*ALTER TABLE (\w+) ADD COLUMN (\w+)", s).groups()
             for s in statements if re.match(r"\s*ALTER TABLE \w+ ADD COLUMN", s)]
    raw_execute(*(f"ALTER TABLE {table} DROP COLUMN {column}"
                  for table, column in added if table not in later),
                *(f"DROP TABLE {table}" for table in reversed(later)),
                f"UPDATE core_blocks_meta SET value = '{old_version}'"
                " WHERE key = 'schema_version'")
    reset_state()

    loaded = Account.load("ann")

    assert (loaded.owner, loaded.pin.get_secret_value()) == ("ann", "1234")
    store = get_store()
    assert store.schema_version() == SCHEMA_VERSION
    for table in later:
        store.query(f"SELECT COUNT(*) FROM {table}")


def test_reopening_keeps_documents_and_does_not_migrate_again(any_store):
    """A second open finds the store current and its documents intact."""
    Account(owner="ann", balance=1, pin="1234").save("ann")
    reset_state()

    store = get_store()
    assert store.schema_version() == SCHEMA_VERSION
    assert store.count_documents() == 1
    assert Account.load("ann").balance == 1


def test_a_store_from_a_newer_version_is_refused(any_store):
    """A store written by a newer core-blocks is refused with the fix."""
    get_store().schema_version()  # create it
    newer = SCHEMA_VERSION + 1
    raw_execute(f"UPDATE core_blocks_meta SET value = '{newer}' WHERE key = 'schema_version'")
    reset_state()

    with pytest.raises(StoreError) as caught:
        String.list()

    assert f"schema version {newer}" in str(caught.value)
    assert "Upgrade core-blocks" in str(caught.value)


# -- the SQLite file ------------------------------------------------------------------------


def test_sqlite_store_file_is_private_in_the_home_folder(block_home):
    """blocks.db and its WAL files are 0600, the home 0700."""
    String(value="x").save("a")

    db = block_home / "blocks.db"
    assert db.is_file()
    for path in [db, *block_home.glob("blocks.db-*")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(block_home.stat().st_mode) == 0o700


def test_sqlite_store_in_a_new_home_is_created_private(tmp_path, monkeypatch):
    """A missing home is created 0700 with a 0600 store."""
    home = tmp_path / "fresh" / "home"
    monkeypatch.setenv("CORE_BLOCKS_HOME", str(home))
    reset_state()

    String(value="x").save("a")

    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "blocks.db").stat().st_mode) == 0o600


def test_sqlite_store_uses_wal_and_a_busy_timeout(block_home):
    """The connection is in WAL mode with a 30 s busy timeout."""
    store = get_store()

    assert store.query("PRAGMA journal_mode") == [("wal",)]
    assert store.query("PRAGMA busy_timeout") == [(30000,)]
    assert (block_home / "blocks.db-wal").exists()


def test_a_save_waits_for_another_writer_instead_of_failing(block_home):
    """The busy timeout in action: a save blocked by a held write lock succeeds once released."""
    String(value="before").save("a")
    other = sqlite3.connect(block_home / "blocks.db", isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(0.7, lambda: other.execute("COMMIT"))
    started = time.monotonic()
    releaser.start()
    try:
        String(value="after").save("a", overwrite=True)
    finally:
        releaser.join()
        other.close()

    assert time.monotonic() - started >= 0.6
    assert String.load("a").value == "after"


def test_a_postgres_store_writes_no_sqlite_file(any_store, block_home):
    """A PostgreSQL store leaves no blocks.db behind."""
    Account(owner="ann", balance=1, pin="1234").save("ann")

    assert (block_home / "blocks.db").exists() == (any_store == "sqlite")


# -- broken stores --------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["garbage", "bad-header"])
def test_a_corrupted_sqlite_file_is_one_clear_error_and_is_left_alone(block_home, damage):
    """Reads and writes fail with one line naming the file and the fix; the file is kept."""
    String(value="x").save("a")
    reset_state()
    db = block_home / "blocks.db"
    for extra in block_home.glob("blocks.db-*"):
        extra.unlink()
    if damage == "garbage":
        db.write_bytes(b"this is not a database\n" * 500)
    else:
        data = bytearray(db.read_bytes())
        data[16:100] = b"\xab" * 84  # page size, versions, counters: the header is unreadable
        db.write_bytes(bytes(data))
    damaged = db.read_bytes()

    for action in (lambda: String.load("a"), String.list, lambda: String(value="y").save("b")):
        with pytest.raises(StoreError) as caught:
            action()
        message = str(caught.value)
        assert "\n" not in message
        assert str(db) in message
        assert "Move it aside" in message and "restore it from a backup" in message

    assert db.read_bytes() == damaged


def test_an_unsupported_store_url_is_refused():
    """Only sqlite:/// and postgresql:// URLs are accepted."""
    with pytest.raises(StoreError, match="sqlite:///PATH or postgresql://"):
        Store("mysql://user:pw@host/db")


def test_an_unreachable_postgres_store_names_it_without_the_password(monkeypatch):
    """The connection error names the server, never the credentials."""
    pytest.importorskip("psycopg")
    monkeypatch.setenv("CORE_BLOCKS_STORE_URL",
                       "postgresql://alice:hunter2-pw@127.0.0.1:1/blocks?connect_timeout=3")
    reset_state()

    with pytest.raises(StoreError) as caught:
        String.list()

    message = str(caught.value)
    assert "postgresql://127.0.0.1:1/blocks" in message
    assert "hunter2-pw" not in message and "alice" not in message
    assert "CORE_BLOCKS_STORE_URL" in message


# -- optimistic concurrency -----------------------------------------------------------------


def test_saving_a_stale_loaded_block_is_a_conflict(any_store):
    """A save based on an outdated load is refused and changes nothing."""
    Account(owner="ann", balance=100, pin="1111").save("ann")
    mine = Account.load("ann")
    theirs = Account.load("ann")
    assert get_store().get_document("account", "ann").version == 1

    theirs.balance = 150
    theirs.save("ann", overwrite=True)
    assert get_store().get_document("account", "ann").version == 2

    mine.balance = 90
    mine.pin = SecretStr("2222")
    with pytest.raises(BlockConflictError) as caught:
        mine.save("ann", overwrite=True)

    assert "account/ann" in str(caught.value)
    assert "version 1, now 2" in str(caught.value)
    assert "Load it again" in str(caught.value)
    loaded = Account.load("ann")
    assert (loaded.balance, loaded.pin.get_secret_value()) == (150, "1111")
    assert get_store().get_document("account", "ann").version == 2
    # The refused save's secret was written first; it must not be left behind.
    assert secret_keys() == referenced_keys()
    assert get_store().journal() == []


def test_a_block_saves_again_after_its_own_save_and_after_reloading(any_store):
    """The version a block carries follows its own saves, so only others' saves conflict."""
    block = Account(owner="ann", balance=1, pin="1")
    block.save("ann")
    block.balance = 2
    block.save("ann", overwrite=True)
    block.balance = 3
    block.save("ann", overwrite=True)
    assert get_store().get_document("account", "ann").version == 3

    stale = Account.load("ann")
    Account.load("ann").save("ann", overwrite=True)
    with pytest.raises(BlockConflictError):
        stale.save("ann", overwrite=True)

    fresh = Account.load("ann")
    fresh.balance = 4
    fresh.save("ann", overwrite=True)
    assert Account.load("ann").balance == 4


def test_overwriting_a_block_deleted_and_created_again_since_loading_is_a_conflict(any_store):
    """The document's identity must match, not just its version: else B's write is lost."""
    Secret(value="v1").save("c2")
    a = Secret.load("c2")
    Secret.delete("c2")
    Secret(value="by-b").save("c2")  # version 1 again, but another document
    a.value = SecretStr("by-a")

    with pytest.raises(BlockConflictError) as caught:
        a.save("c2", overwrite=True)

    assert str(caught.value) == (
        "secret/c2 was deleted and saved again by someone else since it was loaded; "
        "overwriting would lose their block. Load it again, reapply your change and save.")
    assert Secret.load("c2").get() == "by-b"
    assert secret_keys() == referenced_keys()
    assert get_store().journal() == []


def test_overwriting_a_block_deleted_since_loading_is_a_conflict_not_a_resurrection(any_store):
    """A stale copy saved with overwrite=True does not bring a deleted block back; saving it
    without overwrite (create it anew, on purpose) still can."""
    Account(owner="ann", balance=1, pin="1").save("ann")
    stale = Account.load("ann")
    Account.delete("ann")

    with pytest.raises(BlockConflictError) as caught:
        stale.save("ann", overwrite=True)

    assert str(caught.value) == (
        "account/ann was deleted since it was loaded; saving it with overwrite=True would "
        "bring it back. To create it again anyway, save with overwrite=False.")
    assert Account.list() == []
    assert secret_keys() == set()
    assert get_store().journal() == []

    stale.save("ann")
    assert Account.load("ann").owner == "ann"
    stale.balance = 2
    stale.save("ann", overwrite=True)  # its new identity is the one it just saved
    assert Account.load("ann").balance == 2


def test_save_without_overwrite_refuses_and_leaves_no_secret_behind(any_store):
    """A refused save keeps the old document and adds no secret."""
    Account(owner="ann", balance=1, pin="1").save("ann")
    keys = secret_keys()

    with pytest.raises(BlockExistsError):
        Account(owner="bob", balance=2, pin="2").save("ann")

    assert secret_keys() == keys == referenced_keys()
    assert Account.load("ann").owner == "ann"


def test_overwriting_replaces_the_secret_and_deletes_the_old_one(any_store):
    """An overwrite writes a new secret key and deletes the replaced one."""
    Account(owner="ann", balance=1, pin="1").save("ann")
    old = get_store().get_document("account", "ann").secret_key

    Account(owner="ann", balance=1, pin="2").save("ann", overwrite=True)

    new = get_store().get_document("account", "ann").secret_key
    assert new != old
    assert secret_keys() == {new}
    assert get_store().journal() == []


# -- block types and documents --------------------------------------------------------------


def test_saving_records_the_block_type(any_store):
    """A save records slug, name, description, schema and checksum of its type."""
    Account(owner="ann", balance=1, pin="1").save("ann")

    [row] = [t for t in get_store().list_types() if t.slug == "account"]
    assert row.name == "Account"
    assert row.description == "An account with a plain and a secret field."
    assert row.schema == Account.schema()
    assert row.checksum == Account.schema_checksum()
    assert get_store().type_checksum("account") == Account.schema_checksum()
    assert get_store().get_document("account", "ann").schema_checksum == row.checksum


def test_a_changed_class_updates_its_recorded_type(any_store):
    """Saving with a changed class updates the type; documents keep their checksum."""
    class Evolving(Block):
        _block_type_slug = "test-store-evolving"
        a: int

    Before = Evolving

    class Evolving(Block):  # the same class statement, edited
        _block_type_slug = "test-store-evolving"
        a: int
        b: str = ""

    After = Evolving

    Before(a=1).save("x")
    assert get_store().type_checksum("test-store-evolving") == Before.schema_checksum()

    After(a=2).save("y")

    assert get_store().type_checksum("test-store-evolving") == After.schema_checksum()
    [row] = [t for t in get_store().list_types() if t.slug == "test-store-evolving"]
    assert "b" in row.schema["properties"]
    docs = {r.name: r.schema_checksum for r in get_store().list_documents("test-store-evolving")}
    assert docs == {"x": Before.schema_checksum(), "y": After.schema_checksum()}


def test_list_documents_orders_filters_and_hides_anonymous_children(any_store):
    """Documents sort by type and name, filter by type, and hide anonymous ones."""
    class Holder(Block):
        _block_type_slug = "test-store-holder"
        inner: Account

    Secret(value="s").save("zed")
    Account(owner="b", balance=1, pin="1").save("bob")
    Account(owner="a", balance=1, pin="1").save("ann")
    Holder(inner=Account(owner="c", balance=1, pin="1")).save("box")
    store = get_store()

    assert [r.ref for r in store.list_documents()] == [
        "account/ann", "account/bob", "secret/zed", "test-store-holder/box"]
    assert [r.name for r in store.list_documents("account")] == ["ann", "bob"]
    everything = store.list_documents(include_anonymous=True)
    assert len(everything) == 5 == store.count_documents()
    [anonymous] = [r for r in everything if r.anonymous]
    assert anonymous.type_slug == "account" and anonymous.name.startswith("anonymous-")
    assert store.referrers(anonymous.id) == [("test-store-holder", "box", "inner")]
    assert all(r.version == 1 for r in everything)


def test_damaged_data_pages_are_reported_as_corruption_with_the_fix(block_home):
    """A file whose header reads but whose pages are damaged gets the same advice."""
    for i in range(50):
        String(value="x" * 500).save(f"a{i}")
    get_store().query("PRAGMA wal_checkpoint(TRUNCATE)")
    reset_state()
    db = block_home / "blocks.db"
    data = bytearray(db.read_bytes())
    data[len(data) // 2:] = b"\xab" * (len(data) - len(data) // 2)
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError) as caught:
        String.list()
    assert "Move it aside" in str(caught.value) and str(db) in str(caught.value)


NEW_STORE_RACE = """
import sys, time
from core_blocks import String
while time.time() < float(sys.argv[2]):
    pass
String(value="v").save(f"w{sys.argv[1]}")
"""


def test_processes_opening_a_new_store_at_the_same_instant_all_succeed(block_home, tmp_path):
    """Switching a new file to WAL waits for the other openers instead of failing."""
    import subprocess
    import sys

    script = tmp_path / "first.py"
    script.write_text(NEW_STORE_RACE)
    for round_ in range(3):
        home = block_home / f"race{round_}"
        env = {**os.environ, "CORE_BLOCKS_HOME": str(home)}
        start = time.time() + 0.8
        procs = [subprocess.Popen([sys.executable, str(script), str(i), str(start)], env=env,
                                  stderr=subprocess.PIPE, text=True) for i in range(6)]
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 6, errors
        rows = Store(f"sqlite:///{home / 'blocks.db'}").query("SELECT name FROM block_documents")
        assert sorted(r[0] for r in rows) == [f"w{i}" for i in range(6)]
