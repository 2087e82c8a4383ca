"""The contract every secret backend implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from core_blocks.errors import SecretBackendError
from core_blocks.fields import kind_named
from core_blocks.settings import Settings


class SecretBackend:
    """Stores the secret values of one block document under one key.

    A key is written once and never changed: a save writes a new key, points the document
    at it, then deletes the old one. `ref` ('type-slug/name') is passed for backends that
    address secrets by block (the env backend) and for messages.
    Subclasses set `name` and register through the `register_secret_backends` hook, and
    implement `read`, `write` and `delete` on stored values: each field's value as a JSON value
    (bytes as base64 text; see core_blocks.fields.SECRET_KINDS). A read-only backend sets
    `writable = False`.
    """

    name: ClassVar[str] = ""
    writable: ClassVar[bool] = True
    description: ClassVar[str] = ""

    def __init__(self, settings: Settings):
        self.settings = settings

    @classmethod
    def unusable_reason(cls, settings: Settings) -> str | None:
        """Why this backend cannot be used here, or None when it can. Runs before each save:
        keep it cheap."""
        return None

    @classmethod
    def diagnose(cls, settings: Settings) -> str | None:
        """unusable_reason, checked thoroughly (that what is stored can still be read, say);
        `blocks doctor` calls it. A backend with a slow check worth running overrides it."""
        return cls.unusable_reason(settings)

    def read(self, key: str, ref: str) -> dict[str, Any] | None:
        """The values stored under key, or None when the key is absent."""
        raise NotImplementedError

    def write(self, key: str, values: dict[str, Any], ref: str) -> None:
        """Store values under key (a new key: never one in use)."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove key; a key already absent is fine."""
        raise NotImplementedError

    def read_values(self, key: str, ref: str, kinds: Mapping[str, str]) -> dict[str, Any] | None:
        """The plain values of ref's secret fields (kinds: field -> 'str', 'bytes' or 'dict'),
        each decoded to its kind; None when the key is absent.

        Fields missing from what is stored are left out. A backend that stores values in
        another form overrides this.
        """
        stored = self.read(key, ref)
        if stored is None:
            return None
        return {field: kind_named(kind).decode(stored[field])
                for field, kind in kinds.items() if field in stored}

    def check_writable(self, ref: str) -> None:
        """Raise read_only_error(ref) when this backend cannot take the secrets of ref."""
        if not self.writable:
            raise self.read_only_error(ref)

    def missing_message(self, ref: str, fields: list[str]) -> str:
        """What to say when the secrets of ref (these fields) are not in this backend."""
        return (f"The secrets of {ref} are missing from the {self.name!r} secret backend. "
                f"Save them again with: blocks create {ref} --overwrite")

    def read_only_error(self, ref: str) -> SecretBackendError:
        """The error for a save of ref's secrets into this read-only backend."""
        return SecretBackendError(
            f"Cannot save the secrets of {ref}: the {self.name!r} secret backend is read-only. "
            "Save blocks where CORE_BLOCKS_SECRET_BACKEND is keyring or file."
        )
