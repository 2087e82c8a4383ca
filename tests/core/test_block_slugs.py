"""A block type slug belongs to one class: a second class claiming it is refused, when it is
defined and, against the plugins' types, when it is saved."""

from __future__ import annotations

import pytest
from pydantic import Field, SecretStr

from core_blocks import Block, Webhook
from core_blocks.errors import PluginError
from core_blocks.registry import get_registry
from core_blocks.store import get_store
from tests.helpers import plugin_folder

HERE = __name__


def _taken(cls_path: str, qualname: str, slug: str, how: str, owner: str) -> str:
    return (f"{cls_path} uses block type slug {slug!r}, which {how} {owner}: saving it would "
            "overwrite that type's schema and mix their blocks. Give "
            f"{qualname} its own slug: set _block_type_slug = '...' in its class body.")


def test_a_class_named_like_a_core_type_is_refused_when_defined():
    """The reported case: a user's `Webhook` would save the core webhook's secret url in clear."""
    assert Webhook._block_type_slug == "webhook"
    where = "test_a_class_named_like_a_core_type_is_refused_when_defined.<locals>.MyHook"

    with pytest.raises(TypeError) as raised:
        class MyHook(Block):
            _block_type_name = "Webhook"
            url: str

    assert str(raised.value) == _taken(f"{HERE}.{where}", where, "webhook",
                                       "is already taken by", "core_blocks.types.webhook.Webhook")


def test_an_explicit_slug_of_another_class_is_refused():
    class Ledger(Block):
        _block_type_slug = "test-slugs-ledger"

    with pytest.raises(TypeError, match=r"\.Copy uses block type slug 'test-slugs-ledger', "
                                        r"which is already taken by .*\.Ledger: "):
        class Copy(Block):
            _block_type_slug = "test-slugs-ledger"

    assert get_registry().block_type("test-slugs-ledger") is Ledger


def test_the_same_class_statement_run_again_keeps_its_slug():
    """A module reloaded (or a class statement edited and run again) is the same class."""
    made = []
    for version in (1, 2):
        class Evolving(Block):
            _block_type_slug = "test-slugs-evolving"
            n: int = version

        made.append(Evolving)

    assert made[0] is not made[1]
    assert get_registry().block_type("test-slugs-evolving") is made[1]


PLUGIN = '''
from pydantic import Field, SecretStr
from core_blocks import Block, hookimpl


class Vault(Block):
    """A plugin's block type with a secret."""

    token: SecretStr = Field(description="Vault token")


@hookimpl
def register_block_types():
    return [Vault]
'''


def test_a_class_claiming_a_plugin_types_slug_is_refused_when_saved(tmp_path, monkeypatch,
                                                                   canary):
    """Defined before the plugin loaded, so its definition could not be refused: its save is,
    and nothing of it reaches the store."""
    plugin_folder(tmp_path, monkeypatch, "vault.py", PLUGIN)

    class Vault(Block):  # the same name as the plugin's type, and its token in clear
        token: str = Field(description="Not a secret here")

    registered = get_registry().block_type("vault")
    assert registered is not Vault
    where = ("test_a_class_claiming_a_plugin_types_slug_is_refused_when_saved.<locals>.Vault")

    with pytest.raises(PluginError) as raised:
        Vault(token=canary).save("mine")

    assert str(raised.value) == _taken(f"{HERE}.{where}", where, "vault",
                                       "plugin 'file:vault' registers for",
                                       "core_blocks_plugins.vault.Vault")
    assert get_store().get_document("vault", "mine") is None
    assert "vault" not in {t.slug for t in get_store().list_types()}

    registered(token=SecretStr(canary)).save("theirs")  # the plugin's own type still saves
    assert registered.load("theirs").token.get_secret_value() == canary
