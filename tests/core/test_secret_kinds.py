"""The table of secret kinds (core_blocks.fields) and how backends hand secrets back decoded."""

import json

import pytest
from pydantic import Field, SecretBytes, SecretStr

from core_blocks import Block, SecretDict
from core_blocks.errors import SecretBackendError
from core_blocks.fields import (
    SECRET_KINDS,
    SECRET_TYPES,
    kind_named,
    kind_of,
    kind_of_type,
    secret_kind,
)
from core_blocks.secrets.selection import backend_named
from core_blocks.testing.isolation import reset_state

PLAIN = {"str": "hunter2", "bytes": b"\x00\xff-pem", "dict": {"Authorization": "Bearer x"}}


class KindsVault(Block):
    """One secret field of each kind."""

    text: SecretStr = Field(description="A password")
    raw: SecretBytes = Field(description="A key file")
    headers: SecretDict = Field(description="Secret headers")


@pytest.mark.parametrize("kind", SECRET_KINDS, ids=lambda k: k.name)
def test_each_kind_round_trips_through_its_stored_form(kind):
    value = PLAIN[kind.name]
    stored = kind.encode(value)

    assert json.loads(json.dumps(stored)) == stored  # what a backend stores is JSON
    assert kind.decode(stored) == value
    assert kind_of(kind.type(value)) is kind
    assert kind_of_type(kind.type) is kind
    assert kind_named(kind.name) is kind
    assert secret_kind(kind.type(value)) == kind.name


def test_bytes_are_stored_as_base64_text():
    assert kind_named("bytes").encode(b"\x00\xff") == "AP8="


def test_anything_else_has_no_kind():
    assert kind_of("hunter2") is None and secret_kind(b"x") is None
    assert kind_of_type(str) is None and kind_of_type(list[SecretStr]) is None
    assert SECRET_TYPES == (SecretStr, SecretBytes, SecretDict)


def test_the_file_backend_hands_back_each_kind(block_home):
    file = backend_named("file")
    file.write("k/1", {"text": "a", "raw": "AP8=", "headers": {"A": "b"}}, "kinds-vault/v")

    assert file.read_values("k/1", "kinds-vault/v", {"text": "str", "raw": "bytes"}) == {
        "text": "a", "raw": b"\x00\xff"}  # fields not asked for are left out
    assert file.read_values("k/absent", "kinds-vault/v", {"text": "str"}) is None


def test_the_env_backend_parses_its_text_per_kind(block_home, monkeypatch):
    prefix = "CORE_BLOCKS_SECRET__KINDS_VAULT__V__"
    monkeypatch.setenv(prefix + "TEXT", "a")
    monkeypatch.setenv(prefix + "RAW", "AP8=")
    monkeypatch.setenv(prefix + "HEADERS", '{"A": "b"}')
    env = backend_named("env")

    kinds = {"text": "str", "raw": "bytes", "headers": "dict"}
    assert env.read_values("ignored", "kinds-vault/v", kinds) == {
        "text": "a", "raw": b"\x00\xff", "headers": {"A": "b"}}
    monkeypatch.delenv(prefix + "RAW")
    with pytest.raises(SecretBackendError, match=f"Set {prefix}RAW\\.$"):
        env.read_values("ignored", "kinds-vault/v", kinds)


def test_only_a_read_only_backend_refuses_writes(block_home):
    backend_named("file").check_writable("secret/db")
    with pytest.raises(SecretBackendError) as refused:
        backend_named("env").check_writable("secret/db")
    assert str(refused.value) == (
        "Cannot save the secrets of secret/db: the 'env' secret backend is read-only. "
        "Save blocks where CORE_BLOCKS_SECRET_BACKEND is keyring or file.")


def test_every_kind_survives_a_save_and_a_load(block_home):
    KindsVault(text=PLAIN["str"], raw=PLAIN["bytes"], headers=PLAIN["dict"]).save("v")
    reset_state()

    loaded = KindsVault.load("v")
    assert loaded.model_dump(include_secrets=True) == {
        "text": PLAIN["str"], "raw": PLAIN["bytes"], "headers": PLAIN["dict"]}
    assert loaded.model_dump(include_secrets=True, mode="json")["raw"] == "AP8tcGVt"
    unchecked = KindsVault.load("v", validate=False)
    assert kind_of(unchecked.raw) is kind_named("bytes")
