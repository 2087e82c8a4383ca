"""A save referencing a named block and a delete of that block, one after or during the other:
a clear conflict or in-use error, never a raw foreign-key error, and nothing half-saved.

The races run on the real PostgreSQL, in a fixed order: a second connection plays the other
process, holding its transaction open at the point where the race hurts, while the API call
under test waits for it in a thread.
"""

import threading
import time

import psycopg
import pytest
from pydantic import Field

from core_blocks import Block, Secret
from core_blocks.errors import BlockConflictError, BlockInUseError
from core_blocks.store import get_store
from core_blocks.testing import reset_state


class Mailer(Block):
    """Sends mail, logging in with a password saved as a block of its own."""

    host: str = Field(description="Mail server")
    password: Secret = Field(description="Login password, a saved secret block")


MISSING = ("Cannot save mailer/mail: its field 'password' refers to secret/smtp, which has been "
           "deleted. Save secret/smtp again or set 'password' to another block, then save "
           "mailer/mail.")


@pytest.fixture
def pg_store(monkeypatch, postgres_url):
    monkeypatch.setenv("CORE_BLOCKS_STORE_URL", postgres_url)
    reset_state()
    yield postgres_url
    reset_state()


def in_thread(call):
    """Start call() in a thread; the returned function joins it and gives its error."""
    outcome: list[BaseException | None] = []

    def run():
        try:
            call()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()

    def result():
        thread.join(timeout=30)
        assert outcome, "the call never finished"
        return outcome[0]
    return result


def wait_until_blocked(conn) -> None:
    """Until some session of this database waits for a lock (the call under test)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()").fetchone()[0]
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the call under test never waited for the other transaction")


def test_saving_a_block_whose_named_child_was_deleted_is_a_conflict(any_store):
    """The child was deleted after the parent got hold of it: a conflict naming both."""
    login = Secret(value="pw")
    login.save("smtp")
    mailer = Mailer(host="mx", password=login)
    Secret.delete("smtp")

    with pytest.raises(BlockConflictError) as caught:
        mailer.save("mail")

    assert str(caught.value) == MISSING
    assert Mailer.list() == [] and get_store().journal() == []
    login.save("smtp")  # the fix the message gives
    mailer.save("mail")
    assert Mailer.load("mail").password.get() == "pw"


def test_a_save_racing_a_delete_of_its_named_child_is_a_conflict(pg_store):
    """The delete holds the child's row when the save starts; it commits; the save stops."""
    login = Secret(value="pw")
    login.save("smtp")
    Mailer(host="warm", password=login).save("warm")  # types recorded, connections open
    Mailer.delete("warm")
    mailer = Mailer(host="mx", password=login)

    with psycopg.connect(pg_store, autocommit=True) as other:
        other.execute("BEGIN")
        other.execute("SELECT id FROM block_documents WHERE id = %s FOR UPDATE",
                      (login._block_document_id,))
        other.execute("DELETE FROM block_documents WHERE id = %s", (login._block_document_id,))
        saved = in_thread(lambda: mailer.save("mail"))
        wait_until_blocked(other)
        other.execute("COMMIT")
        error = saved()

    assert isinstance(error, BlockConflictError) and str(error) == MISSING, repr(error)
    assert Mailer.list() == [] and get_store().journal() == []


def test_a_delete_racing_a_save_that_references_it_is_refused_as_in_use(pg_store):
    """The save has pointed a block at the child but not committed; the delete waits for it
    and then refuses, naming the new referrer."""
    Mailer(host="mx", password=Secret(value="old")).save("first")
    login = Secret(value="pw")
    login.save("smtp")
    first = get_store().get_document("mailer", "first")

    with psycopg.connect(pg_store, autocommit=True) as other:
        other.execute("BEGIN")
        other.execute("UPDATE block_references SET child_id = %s WHERE parent_id = %s",
                      (login._block_document_id, first.id))
        deleted = in_thread(lambda: Secret.delete("smtp"))
        wait_until_blocked(other)
        other.execute("COMMIT")
        error = deleted()

    assert isinstance(error, BlockInUseError), repr(error)
    assert str(error) == ("Cannot delete secret/smtp: it is referenced by mailer/first "
                          "(field 'password'). Delete those blocks or point them at another "
                          "block first.")
    assert Secret.load("smtp").get() == "pw"
