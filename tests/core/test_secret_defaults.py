"""A secret field's default is a secret like any value given for it: masked, kept out of the
store, loaded back equal."""

import json

import pytest
from click.testing import CliRunner
from pydantic import Field, SecretStr

from core_blocks import Block, SecretDict
from core_blocks.cli.app import cli


class DefaultsWarehouse(Block):
    """The README's Warehouse, its secret fields left to their defaults."""

    host: str = Field(description="Server host name")
    password: SecretStr = Field(description="Login password")
    options: SecretDict = Field(default_factory=dict, description="Extra secret options")


def defaults_block(canary: str) -> type[Block]:
    """A block type whose secret defaults hold the canary (defined once per canary)."""

    class DefaultsWithValues(Block):
        """Secret fields with defaults that hold values."""

        _block_type_slug = f"defaults-with-values-{canary[-8:].lower()}"

        options: SecretDict = Field(default_factory=lambda: {"token": canary},
                                    description="Secret options from a factory")
        headers: SecretDict = Field(default={"X-Key": canary}, description="Secret headers")
        password: SecretStr = Field(default=canary, description="A secret default")

    return DefaultsWithValues


def store_bytes(block_home) -> bytes:
    return b"".join(p.read_bytes() for p in block_home.glob("blocks.db*"))


def test_a_secret_dict_left_to_its_default_factory_saves_and_loads(block_home):
    DefaultsWarehouse(host="db", password="hunter2").save("analytics")

    loaded = DefaultsWarehouse.load("analytics")

    assert loaded.options.get_secret_value() == {}
    assert loaded.model_dump(include_secrets=True)["options"] == {}


def test_secret_defaults_are_masked_and_kept_out_of_the_store(block_home, canary):
    cls = defaults_block(canary)
    block = cls()

    for shown in (repr(block), str(block), str(block.model_dump()),
                  block.model_dump_json(), json.dumps(cls.schema())):
        assert canary not in shown
    block.save("defaults")

    assert canary.encode() not in store_bytes(block_home)
    loaded = cls.load("defaults")
    assert loaded.model_dump(include_secrets=True) == {
        "options": {"token": canary}, "headers": {"X-Key": canary}, "password": canary}
    inspected = CliRunner().invoke(cli, ["inspect", f"{cls._block_type_slug}/defaults",
                                         "--json"])
    assert inspected.exit_code == 0, inspected.output
    assert canary not in inspected.output
    assert json.loads(inspected.output)["fields"]["options"] == "********"


def test_each_instance_gets_its_own_default(block_home):
    first, second = DefaultsWarehouse(host="a", password="p"), DefaultsWarehouse(host="b",
                                                                               password="p")
    first.options.get_secret_value()["k"] = "v"

    assert second.options.get_secret_value() == {}


@pytest.mark.parametrize("value", [{"token": "plain"}, "plain"])
def test_a_plain_value_in_a_secret_field_never_reaches_the_store(block_home, canary, value):
    """model_construct skips validation: the save still sends the value to the backend."""
    data = {k: canary for k in value} if isinstance(value, dict) else canary
    field = "options" if isinstance(value, dict) else "password"
    block = DefaultsWarehouse.model_construct(host="db", **{
        "password": SecretStr("p"), "options": SecretDict({}), field: data})

    block.save("constructed")

    assert canary.encode() not in store_bytes(block_home)
    assert DefaultsWarehouse.load("constructed").model_dump(include_secrets=True)[field] == data

