"""The Block base class: field round trips, nested blocks, names, schema, secrets, evolution.

Every Block subclass is remembered by slug for the whole session (`_defined_types`), so
classes defined inside tests use slugs of their own.
"""

import asyncio
import base64
import enum
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, SecretBytes, SecretStr

from core_blocks import Block, Secret, SecretDict
from core_blocks.abstract import NotificationBlock
from core_blocks.errors import (
    BlockExistsError,
    BlockInUseError,
    BlockNameError,
    BlockNotFound,
    BlockValidationError,
)
from core_blocks.store import get_store
from tests.helpers import secret_keys


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(BaseModel):
    x: int
    y: int
    tags: list[str] = []


class KitchenSink(Block):
    """Every kind of field a block can hold."""

    text: str = Field(description="a string")
    count: int = Field(description="an integer")
    ratio: float = Field(description="a float")
    enabled: bool = Field(description="a boolean")
    maybe: int | None = Field(default=None, description="optional, left unset")
    maybe_set: str | None = Field(default=None, description="optional, set")
    items: list[int] = Field(description="a list")
    mapping: dict[str, list[float]] = Field(description="a dict")
    point: Point = Field(description="a nested pydantic model")
    when: datetime = Field(description="a datetime")
    path: Path = Field(description="a path")
    color: Color = Field(description="an enum")
    password: SecretStr = Field(description="a secret string")
    key: SecretBytes = Field(description="secret bytes")
    options: SecretDict = Field(description="a secret dict")
    maybe_secret: SecretStr | None = Field(default=None, description="an optional secret")


class Grandchild(Block):
    level: int
    token: SecretStr


class Child(Block):
    label: str
    token: SecretStr
    grandchild: Grandchild


class Parent(Block):
    title: str
    token: SecretStr
    child: Child


def sink(canary: str) -> KitchenSink:
    return KitchenSink(
        text='quote " é', count=-(2**40), ratio=0.1, enabled=False, maybe_set="set",
        items=[3, 1, 2], mapping={"a": [1.5, -2.0], "b": []}, point=Point(x=1, y=-2, tags=["t"]),
        when=datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=5))),
        path=Path("/srv/data/in.csv"), color=Color.BLUE, password=canary,
        key=b"\x00\xff" + canary.encode(), options={"token": canary, "n": 1},
        maybe_secret=canary + "-2",
    )


def tree(canary: str) -> Parent:
    return Parent(title="p", token=f"{canary}-p",
                  child=Child(label="c", token=f"{canary}-c",
                              grandchild=Grandchild(level=3, token=f"{canary}-g")))


def stored_data() -> str:
    """Every document as the store holds it, concatenated."""
    return "".join(r.data for r in get_store().list_documents(include_anonymous=True))



# -- round trips ----------------------------------------------------------------------------


def test_every_field_type_round_trips(any_store, canary):
    """Plain, optional, container, model, datetime, path, enum and secret fields survive."""
    original = sink(canary)
    original.save("everything")

    loaded = KitchenSink.load("everything")

    assert type(loaded) is KitchenSink
    assert loaded == original
    assert loaded.model_dump(include_secrets=True) == original.model_dump(include_secrets=True)
    assert loaded.when.utcoffset() == timedelta(hours=5)
    assert isinstance(loaded.path, Path) and loaded.color is Color.BLUE
    assert isinstance(loaded.point, Point) and loaded.maybe is None
    assert loaded.password.get_secret_value() == canary
    assert loaded.key.get_secret_value() == b"\x00\xff" + canary.encode()
    assert loaded.options.get_secret_value() == {"token": canary, "n": 1}
    assert canary not in stored_data()


def test_secret_fields_reach_the_store_only_as_field_names(any_store, canary):
    """The document records which fields are secret, never their values."""
    sink(canary).save("everything")

    data = json.loads(get_store().get_document("kitchen-sink", "everything").data)

    assert data["$secrets"] == {"password": "str", "key": "bytes", "options": "dict",
                                "maybe_secret": "str"}
    assert not {"password", "key", "options", "maybe_secret"} & set(data)
    assert data["count"] == -(2**40) and data["color"] == "blue"


def test_nested_blocks_three_levels_round_trip_with_secrets(any_store, canary):
    """Saving the parent saves its unsaved children anonymously; load resolves the tree."""
    tree(canary).save("root")

    rows = get_store().list_documents(include_anonymous=True)
    assert sorted((r.type_slug, r.anonymous) for r in rows) == [
        ("child", True), ("grandchild", True), ("parent", False)]
    assert Child.list() == [] and Grandchild.list() == []

    loaded = Parent.load("root")
    assert loaded.token.get_secret_value() == f"{canary}-p"
    assert loaded.child.label == "c"
    assert loaded.child.token.get_secret_value() == f"{canary}-c"
    assert loaded.child.grandchild.level == 3
    assert loaded.child.grandchild.token.get_secret_value() == f"{canary}-g"
    assert type(loaded.child.grandchild) is Grandchild
    assert canary not in stored_data()


def test_resaving_a_tree_reuses_or_removes_its_anonymous_children(any_store, canary):
    """Saving a loaded tree again, or a new tree over it, leaves no orphaned children."""
    tree(canary).save("root")
    loaded = Parent.load("root")
    loaded.child.grandchild.level = 4
    loaded.save("root", overwrite=True)
    assert len(get_store().list_documents(include_anonymous=True)) == 3
    assert Parent.load("root").child.grandchild.level == 4

    tree(canary + "-new").save("root", overwrite=True)

    assert len(get_store().list_documents(include_anonymous=True)) == 3
    reloaded = Parent.load("root")
    assert reloaded.child.grandchild.token.get_secret_value() == f"{canary}-new-g"
    assert reloaded.child.grandchild.level == 3


def test_a_named_child_is_shared_by_reference(any_store):
    """A child saved under its own name is referenced: changing it changes every parent."""
    Grandchild(level=1, token="t").save("shared")
    Child(label="a", token="x", grandchild=Grandchild.load("shared")).save("one")
    Child(label="b", token="y", grandchild=Grandchild.load("shared")).save("two")

    Grandchild(level=2, token="t2").save("shared", overwrite=True)

    for name in ("one", "two"):
        child = Child.load(name)
        assert child.grandchild.level == 2
        assert child.grandchild.token.get_secret_value() == "t2"


def test_deleting_a_referenced_block_is_refused_naming_the_referrers(any_store):
    """BlockInUseError names each referrer and field; the child stays."""
    Grandchild(level=1, token="t").save("shared")
    Child(label="a", token="x", grandchild=Grandchild.load("shared")).save("one")
    Child(label="b", token="y", grandchild=Grandchild.load("shared")).save("two")

    with pytest.raises(BlockInUseError) as caught:
        Grandchild.delete("shared")

    message = str(caught.value)
    assert "grandchild/shared" in message
    assert "child/one (field 'grandchild')" in message
    assert "child/two (field 'grandchild')" in message
    assert Grandchild.load("shared").level == 1

    Child.delete("one")
    Child.delete("two")
    Grandchild.delete("shared")
    assert Grandchild.list() == []


def test_deleting_a_parent_deletes_its_anonymous_children(any_store, canary):
    """Anonymous children go with their parent; nothing is left in the store."""
    tree(canary).save("root")
    assert len(secret_keys()) == 3

    Parent.delete("root")

    assert get_store().list_documents(include_anonymous=True) == []
    assert secret_keys() == set()
    with pytest.raises(BlockNotFound):
        Parent.load("root")


# -- generic load, save, delete, list -------------------------------------------------------


def test_block_load_by_type_slug_and_name_returns_the_right_class(any_store, canary):
    """Block.load('type-slug/name') finds the class; a wrong or missing slug is refused."""
    sink(canary).save("everything")
    tree(canary).save("root")

    loaded = Block.load("kitchen-sink/everything")
    assert type(loaded) is KitchenSink
    assert loaded.password.get_secret_value() == canary
    assert Block.load("parent/root").child.grandchild.level == 3
    assert KitchenSink.load("kitchen-sink/everything") == loaded

    with pytest.raises(BlockValidationError, match=r"needs 'type-slug/name'"):
        Block.load("everything")
    with pytest.raises(BlockValidationError, match=r"Block\.load\('parent/root'\)"):
        KitchenSink.load("parent/root")


def test_save_refuses_an_existing_name_unless_overwrite(any_store):
    """overwrite=False keeps the saved block; overwrite=True replaces it in place."""
    first = Grandchild(level=1, token="one").save("taken")

    with pytest.raises(BlockExistsError) as caught:
        Grandchild(level=2, token="two").save("taken")
    assert "'taken'" in str(caught.value) and "overwrite=True" in str(caught.value)
    assert Grandchild.load("taken").level == 1

    second = Grandchild(level=2, token="two").save("taken", overwrite=True)

    assert second == first  # same document, new contents
    loaded = Grandchild.load("taken")
    assert (loaded.level, loaded.token.get_secret_value()) == (2, "two")


def test_saved_name_and_ref_follow_save_and_load_and_stay_none_for_anonymous(any_store):
    child = Child(label="c", token="t", grandchild=Grandchild(level=1, token="g"))
    assert (child.saved_name, child.saved_ref) == (None, None)

    child.save("kid")
    loaded = Child.load("kid")

    assert (child.saved_name, child.saved_ref) == ("kid", f"{Child._block_type_slug}/kid")
    assert loaded.saved_ref == f"{Child._block_type_slug}/kid"
    assert loaded.grandchild.saved_name is None  # saved anonymously inside its parent
    assert Block.load(loaded.saved_ref).label == "c"
    with pytest.raises(AttributeError):
        loaded.saved_name = "other"


def test_delete_removes_the_block_and_list_names_what_is_saved(any_store):
    """list() is sorted by name (refs on Block); a deleted block is gone."""
    for name in ("b-2", "a-1", "c-3"):
        Grandchild(level=1, token=name).save(name)
    Secret(value="s").save("other")

    assert Grandchild.list() == ["a-1", "b-2", "c-3"]
    assert Block.list() == ["grandchild/a-1", "grandchild/b-2", "grandchild/c-3",
                            "secret/other"]

    Grandchild.delete("b-2")

    assert Grandchild.list() == ["a-1", "c-3"]
    with pytest.raises(BlockNotFound, match="a-1, c-3"):
        Grandchild.load("b-2")
    with pytest.raises(BlockNotFound):
        Grandchild.delete("b-2")


def test_async_twins_save_load_and_delete(any_store, canary):
    """asave, aload and adelete do what their sync twins do."""
    async def scenario():
        doc_id = await tree(canary).asave("root")
        loaded = await Parent.aload("root")
        await Parent.adelete("root")
        return doc_id, loaded

    doc_id, loaded = asyncio.run(scenario())

    assert str(doc_id) == loaded._block_document_id
    assert loaded.child.grandchild.token.get_secret_value() == f"{canary}-g"
    assert Parent.list() == []


# -- names and slugs ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "Prod-DB", "prod_db", "prod db", "-prod", "prod-", "prod--db", "", "a" * 101, "prod/db",
    "prod.db", "über",
])
def test_invalid_names_are_refused_stating_the_rule(name):
    """A bad name is a BlockNameError that states the rule; nothing is saved."""
    with pytest.raises(BlockNameError) as caught:
        Grandchild(level=1, token="t").save(name)

    assert "lowercase letters, digits and single dashes" in str(caught.value)
    assert "at most 100 characters" in str(caught.value)
    assert Grandchild.list() == []


@pytest.mark.parametrize("name", ["a", "prod-db-2", "9", "a" * 100])
def test_valid_names_are_accepted(name):
    """Names at the edges of the rule save and load."""
    Grandchild(level=1, token="t").save(name)

    assert Grandchild.load(name).level == 1


def test_slug_is_derived_from_the_class_or_type_name():
    """Kebab-case from the class name or _block_type_name; an explicit slug wins."""
    # Names no other class here uses: a slug belongs to one class (see test_block_slugs.py).
    class S3Archive(Block):
        pass

    class HTTPServerConfig(Block):
        pass

    class Spaced(Block):
        _block_type_name = "AWS Archive Credentials"

    class Explicit(Block):
        _block_type_slug = "my-explicit-slug"

    assert S3Archive._block_type_slug == "s3-archive"
    assert HTTPServerConfig._block_type_slug == "http-server-config"
    assert Spaced._block_type_slug == "aws-archive-credentials"
    assert Explicit._block_type_slug == "my-explicit-slug"
    assert KitchenSink._block_type_slug == "kitchen-sink"
    assert S3Archive._block_type_name == "S3Archive"


# -- schema and capabilities ----------------------------------------------------------------


def test_schema_describes_fields_secrets_slug_and_capabilities():
    """The JSON schema carries descriptions, writeOnly secrets and block metadata."""
    schema = KitchenSink.schema()

    assert schema["block_type_slug"] == "kitchen-sink"
    assert schema["description"] == "Every kind of field a block can hold."
    assert schema["secret_fields"] == ["key", "maybe_secret", "options", "password"]
    assert schema["properties"]["count"]["description"] == "an integer"
    for field in ("password", "key", "options"):
        assert schema["properties"][field]["writeOnly"] is True
    assert "writeOnly" not in schema["properties"]["text"]
    assert set(schema["required"]) >= {"text", "password", "point"}
    assert schema["block_capabilities"] == []


def test_capabilities_are_declared_inherited_and_recorded():
    """Capabilities come from the class or its interface and reach the store."""
    class Pager(NotificationBlock):
        _block_type_slug = "test-block-pager"
        _capabilities = ("notify", "page")
        target: str

        def notify(self, body, subject=None):
            pass

    class Quiet(NotificationBlock):
        _block_type_slug = "test-block-quiet"

        def notify(self, body, subject=None):
            pass

    assert Pager.schema()["block_capabilities"] == ["notify", "page"]
    assert Quiet.schema()["block_capabilities"] == ["notify"]

    Pager(target="ops").save("ops")

    [row] = [t for t in get_store().list_types() if t.slug == "test-block-pager"]
    assert row.capabilities == ["notify", "page"]
    assert NotificationBlock.list() == ["test-block-pager/ops"]


def test_schema_checksum_is_stable_and_changes_with_the_fields():
    """Same definition, same checksum; another field type or slug, another one."""
    def define(annotation, slug="test-block-checksum"):
        class Checked(Block):
            _block_type_slug = slug
            host: annotation = Field(description="host")

        return Checked

    checksum = define(str).schema_checksum()

    assert checksum.startswith("sha256:") and len(checksum) == len("sha256:") + 64
    assert checksum == define(str).schema_checksum()
    assert define(int).schema_checksum() != checksum
    assert define(str, slug="test-block-checksum-2").schema_checksum() != checksum


def test_schema_checksum_is_the_same_in_another_process():
    """Independent of hash seeds and object ids: another interpreter computes the same value."""
    code = "from core_blocks import Secret; print(Secret.schema_checksum())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, timeout=60)

    assert out.stdout.strip() == Secret.schema_checksum()


# -- keeping secrets hidden -----------------------------------------------------------------


def test_dumps_hide_secrets_unless_asked(canary):
    """model_dump and model_dump_json mask secrets at every level unless include_secrets."""
    block = tree(canary)

    for hidden in (block.model_dump(), block.model_dump(mode="json"), block.model_dump_json()):
        assert canary not in str(hidden)
    assert block.model_dump(mode="json")["token"] == "**********"
    assert block.model_dump(mode="json")["child"]["grandchild"]["token"] == "**********"

    shown = block.model_dump(include_secrets=True, mode="json")
    assert shown["token"] == f"{canary}-p"
    assert shown["child"]["token"] == f"{canary}-c"
    assert shown["child"]["grandchild"]["token"] == f"{canary}-g"

    everything = sink(canary).model_dump(include_secrets=True, mode="json")
    assert everything["password"] == canary
    assert everything["options"] == {"token": canary, "n": 1}
    assert base64.b64decode(everything["key"]) == b"\x00\xff" + canary.encode()


def test_repr_and_str_never_show_secret_values(canary):
    """repr and str mask secrets, nested ones included."""
    for block in (tree(canary), sink(canary)):
        assert canary not in repr(block)
        assert canary not in str(block)
    assert "SecretStr('**********')" in repr(sink(canary))


def test_validation_errors_name_the_field_but_not_the_value(canary):
    """A validation error names the field and never quotes the input."""
    with pytest.raises(BlockValidationError) as caught:
        Grandchild(level=canary, token=canary)

    assert caught.value.fields == ["level"]
    assert "'level'" in str(caught.value)
    assert canary not in str(caught.value)


# -- class evolution ------------------------------------------------------------------------


def test_a_document_loads_after_a_field_is_added_with_a_default_or_removed(any_store):
    """Compatible class changes: old documents load and save under the new class."""
    class Evolving(Block):
        _block_type_slug = "test-block-evolve-compatible"
        host: str
        legacy: int = 0
        token: SecretStr

    Evolving(host="db", legacy=7, token="t").save("doc")

    class Evolving(Block):  # the same class statement, edited (a module run again)
        _block_type_slug = "test-block-evolve-compatible"
        host: str
        port: int = 5432
        token: SecretStr

    Version2 = Evolving
    loaded = Version2.load("doc")

    assert (loaded.host, loaded.port, loaded.token.get_secret_value()) == ("db", 5432, "t")
    assert not hasattr(loaded, "legacy")
    assert type(Block.load("test-block-evolve-compatible/doc")) is Version2

    loaded.save("doc", overwrite=True)
    row = get_store().get_document("test-block-evolve-compatible", "doc")
    assert row.schema_checksum == Version2.schema_checksum()
    assert "legacy" not in json.loads(row.data)


@pytest.mark.parametrize("change", ["new-required-field", "type-change"])
def test_an_incompatible_change_names_document_fields_and_fix_and_the_fix_works(
        any_store, canary, change):
    """The error names document, field and fix; following the fix repairs it."""
    slug = f"test-block-evolve-{change}"

    class New(Block):
        _block_type_slug = slug
        host: str
        token: SecretStr

    New(host="db", token=canary).save("doc")

    # The same class statement, edited (a module run again): a slug keeps its one class.
    if change == "new-required-field":
        class New(Block):
            _block_type_slug = slug
            host: str
            region: str
            token: SecretStr

        field, fixed = "region", "eu-west-1"
    else:
        class New(Block):
            _block_type_slug = slug
            host: int
            token: SecretStr

        field, fixed = "host", 5432

    with pytest.raises(BlockValidationError) as caught:
        New.load("doc")

    message = str(caught.value)
    assert f"{slug}/doc" in message
    assert "saved with another version of New" in message
    assert f"field {field!r}" in message
    assert caught.value.fields == [field]
    assert (f"Load it with New.load('doc', validate=False), set {field!r}, "
            "then save('doc', overwrite=True).") in message
    assert canary not in message

    repaired = New.load("doc", validate=False)
    assert repaired.token.get_secret_value() == canary
    setattr(repaired, field, fixed)
    repaired.save("doc", overwrite=True)

    loaded = New.load("doc")
    assert getattr(loaded, field) == fixed
    assert loaded.token.get_secret_value() == canary
    assert get_store().get_document(slug, "doc").schema_checksum == New.schema_checksum()


@pytest.mark.parametrize("annotation", ["Inner", "list[SecretStr]", "dict[str, SecretStr]",
                                        "Optional[list[SecretBytes]]"])
def test_secrets_buried_in_containers_are_refused_when_the_class_is_defined(annotation):
    """Only a block's own secret fields stay out of the store: anything deeper is refused."""
    from typing import Optional  # noqa: F401  (used by the annotation text)

    class Inner(BaseModel):  # noqa: F841
        token: SecretStr

    with pytest.raises(TypeError, match=r"Holder\.x holds a secret inside a list, dict or plain"):
        exec(f"class Holder(Block):\n    x: {annotation}", {**globals(), **locals()})


def test_assignment_is_validated_without_quoting_the_value(canary):
    """`block.field = value` is checked like the constructor, and the error hides the value."""

    class Endpoint(Block):
        url: SecretStr
        port: int = 443

    endpoint = Endpoint(url="https://x")
    with pytest.raises(BlockValidationError) as caught:
        endpoint.port = canary
    assert "field 'port'" in str(caught.value) and canary not in str(caught.value)
    endpoint.url = canary
    assert isinstance(endpoint.url, SecretStr) and endpoint.url.get_secret_value() == canary


def test_a_model_level_validator_error_reads_as_its_own_message():
    """An error not tied to one field is shown as written, with no empty field name."""
    from pydantic import model_validator

    class Window(Block):
        start: int = 0
        end: int = 0

        @model_validator(mode="after")
        def _ordered(self):
            if self.start > self.end:
                raise ValueError("start must not be after end")
            return self

    with pytest.raises(BlockValidationError) as caught:
        Window(start=2, end=1)
    assert str(caught.value) == "Invalid window block: start must not be after end."
    assert caught.value.fields == []
