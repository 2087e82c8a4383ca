"""A method replaced on one block instance, as tests do with monkeypatch.setattr(block,
"get_client", fake): it takes effect there only, and is never a field, saved or dumped."""

import pytest

from core_blocks import Block, BlockValidationError, Webhook


def test_monkeypatching_a_method_on_one_block(monkeypatch, block_home):
    sent = []
    hook = Webhook(url="https://hooks.example.com/T0")
    monkeypatch.setattr(hook, "notify", lambda body, subject=None: sent.append(body))

    hook.notify("hello")
    assert sent == ["hello"]
    assert "notify" not in hook.model_dump()
    hook.save("patched")
    loaded = Block.load("webhook/patched")
    assert loaded.notify.__func__ is Webhook.notify  # the saved block has the class's method
    assert Webhook(url="https://hooks.example.com/T0").notify.__func__ is Webhook.notify

    monkeypatch.undo()
    assert hook.notify.__func__ is Webhook.notify


def test_an_unknown_attribute_is_still_refused():
    hook = Webhook(url="https://hooks.example.com/T0")
    with pytest.raises((BlockValidationError, ValueError), match="no_such|nope"):
        hook.nope = 1
