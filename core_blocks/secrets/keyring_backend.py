"""The `keyring` backend: the OS keychain (Secret Service, macOS Keychain, Windows) via keyring."""

from __future__ import annotations

import json
from typing import Any

from core_blocks.errors import SecretBackendError
from core_blocks.secrets.base import SecretBackend
from core_blocks.settings import Settings

SERVICE = "core-blocks"
_UNLOCK_HINT = ("Unlock the OS keyring, or choose another backend with "
                "CORE_BLOCKS_SECRET_BACKEND=file")


def _usable_keyring():
    """The keyring backend keyring would use, or raise with the reason it is not real."""
    import keyring
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    candidates = backend.backends if isinstance(backend, chainer.ChainerBackend) else [backend]
    real = [b for b in candidates
            if not isinstance(b, fail.Keyring) and "plaintext" not in type(b).__module__.lower()
            and "keyrings.alt" not in type(b).__module__]
    if not real:
        raise LookupError(f"no OS keyring found (keyring chose {type(backend).__module__}."
                          f"{type(backend).__name__})")
    return backend


def _deleted_meanwhile(exc: Exception) -> bool:
    """Whether the Secret Service found the item, then lost it before its secret was read.

    keyring searches for an item, then asks for its secret: a save in another process that
    replaced this key deletes the item in between. Keys are never written again, so the
    key is absent, as the caller, following the document to its new key, needs to hear.
    """
    return (type(exc).__name__ == "ItemNotFoundException"
            and type(exc).__module__.startswith("secretstorage"))


class KeyringSecretBackend(SecretBackend):
    name = "keyring"
    description = "the OS keychain through the keyring package"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self._backend = None

    @classmethod
    def unusable_reason(cls, settings: Settings) -> str | None:
        try:
            _usable_keyring()
        except Exception as exc:  # any failure to find a keyring makes it unusable
            return str(exc) or type(exc).__name__
        return None

    def _keyring(self):
        if self._backend is None:
            try:
                self._backend = _usable_keyring()
            except Exception as exc:
                raise SecretBackendError(
                    f"The keyring secret backend is not usable: {exc}. {_UNLOCK_HINT}."
                ) from None
        return self._backend

    def _call(self, what: str, ref: str, fn, *args):
        """fn(*args); None when the item is absent or was deleted while being read."""
        try:
            return fn(*args)
        except Exception as exc:
            from keyring.errors import PasswordDeleteError

            if isinstance(exc, PasswordDeleteError) or _deleted_meanwhile(exc):
                return None
            raise SecretBackendError(
                f"The OS keyring could not {what} the secrets of {ref} "
                f"({type(exc).__name__}: {exc}). {_UNLOCK_HINT}."
            ) from None

    def read(self, key: str, ref: str) -> dict[str, Any] | None:
        text = self._call("read", ref, self._keyring().get_password, SERVICE, key)
        return json.loads(text) if text else None

    def write(self, key: str, values: dict[str, Any], ref: str) -> None:
        self._call("write", ref, self._keyring().set_password, SERVICE, key, json.dumps(values))

    def delete(self, key: str) -> None:
        self._call("delete", key, self._keyring().delete_password, SERVICE, key)
