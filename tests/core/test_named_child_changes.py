"""A named child changed through its parent: saving the parent refuses instead of silently
dropping the change (a named block is shared by name; only its own save may change it)."""

import pickle

import pytest
from pydantic import Field, SecretStr

from core_blocks import Block, Secret
from core_blocks.errors import UnsavedChildError
from core_blocks.store import get_store


class Warehouse(Block):
    """A warehouse connection whose password is a saved secret block."""

    host: str = Field(description="Server host name")
    password: Secret = Field(description="Login password, shared by name")


class Pipeline(Block):
    """Two levels down: the warehouse is inline, its password named."""

    schedule: str = Field(description="Cron schedule")
    warehouse: Warehouse = Field(description="Where the pipeline writes")


REFUSED = ("Cannot save warehouse/analytics: its field 'password' holds secret/wh-pw, which was "
           "changed but not saved, and saving warehouse/analytics does not save it (it is a "
           "block of its own, referenced by name). Save it by its name first "
           "(.save('wh-pw', overwrite=True) on that block), or load it again to drop the change.")


@pytest.fixture
def saved(any_store):
    Secret(value="old-pw").save("wh-pw")
    Warehouse(host="db", password=Secret.load("wh-pw")).save("analytics")


def versions() -> dict[str, int]:
    return {r.ref: r.version for r in get_store().list_documents(include_anonymous=True)}


def test_saving_a_parent_whose_named_child_changed_is_refused(saved):
    """The change would be lost without a word: refused, nothing written."""
    warehouse = Warehouse.load("analytics")
    warehouse.password.value = SecretStr("new-pw")
    before = versions()

    with pytest.raises(UnsavedChildError) as caught:
        warehouse.save("analytics", overwrite=True)

    assert str(caught.value) == REFUSED
    assert "new-pw" not in str(caught.value) and "old-pw" not in str(caught.value)
    assert versions() == before
    assert Secret.load("wh-pw").get() == "old-pw"


def test_saving_the_child_by_name_then_the_parent_keeps_both_changes(saved):
    """The fix the message gives works, and a later save of the parent is not refused."""
    warehouse = Warehouse.load("analytics")
    warehouse.password.value = SecretStr("new-pw")
    warehouse.host = "db2"

    warehouse.password.save("wh-pw", overwrite=True)
    warehouse.save("analytics", overwrite=True)

    loaded = Warehouse.load("analytics")
    assert (loaded.host, loaded.password.get()) == ("db2", "new-pw")


def test_an_unchanged_named_child_never_blocks_its_parent(saved):
    """Loaded, saved here, or reloaded: an untouched child is only referenced."""
    warehouse = Warehouse.load("analytics")
    warehouse.host = "db2"
    warehouse.save("analytics", overwrite=True)

    fresh = Secret(value="other")
    fresh.save("other-pw")
    Warehouse(host="db3", password=fresh).save("second")
    assert Warehouse.load("second").password.get() == "other"


def test_a_named_child_two_levels_down_is_checked_too(saved):
    """An inline parent is rewritten with the tree; its named child still is not."""
    Pipeline(schedule="@daily", warehouse=Warehouse(
        host="db", password=Secret.load("wh-pw"))).save("nightly")
    pipeline = Pipeline.load("nightly")
    pipeline.warehouse.password.value = SecretStr("new-pw")

    with pytest.raises(UnsavedChildError, match=r"holds secret/wh-pw, which was changed"):
        pipeline.save("nightly", overwrite=True)
    assert Secret.load("wh-pw").get() == "old-pw"


def test_a_changed_block_saved_on_its_own_is_not_refused(saved):
    """The check is for children only: the block being saved is written whatever changed."""
    password = Secret.load("wh-pw")
    password.value = SecretStr("new-pw")
    password.save("wh-pw", overwrite=True)
    assert Secret.load("wh-pw").get() == "new-pw"


def test_a_block_from_another_process_cannot_be_compared_and_is_not_refused(saved):
    """An unpickled copy carries a digest this process cannot check: referenced as before."""
    warehouse = pickle.loads(pickle.dumps(Warehouse.load("analytics")))
    warehouse.password._saved_fingerprint = (b"elsewhere", b"")  # as made by another process
    warehouse.host = "db2"
    warehouse.save("analytics", overwrite=True)
    assert Warehouse.load("analytics").host == "db2"
