"""Which secret backend reads and writes: CORE_BLOCKS_SECRET_BACKEND, or `auto`.

`auto` writes to the OS keyring when a real one exists, else to the encrypted file (saying
so once on stderr). Each document records the backend that holds its secrets and is read
from there, so changing the default never strands saved secrets; a read-only backend
named explicitly (`env`) overrides reads, which is how containers supply secrets.
"""

from __future__ import annotations

import os
import sys
import threading

from core_blocks.builtins import SECRET_BACKENDS
from core_blocks.errors import SecretBackendError
from core_blocks.registry import collected_registry, get_registry
from core_blocks.secrets.base import SecretBackend
from core_blocks.settings import Settings, current, ensure_home

_instances: dict[tuple[int, str, str], SecretBackend] = {}
_auto_choice: dict[tuple[int, str], str] = {}
_lock = threading.Lock()


def backend_named(name: str, settings: Settings | None = None) -> SecretBackend:
    """The backend registered under name, for these settings (one instance per process)."""
    settings = settings or current()
    key = (os.getpid(), str(settings.home), name)
    backend = _instances.get(key)
    if backend is None:
        cls = backend_class(name, settings)
        with _lock:
            backend = _instances.setdefault(key, cls(settings))
    return backend


def backend_class(name: str, settings: Settings) -> type[SecretBackend]:
    """The class of the backend registered under name.

    A built-in backend is imported directly unless the registry is built already: loading a
    block must not import every plugin's block types to find the file backend. A plugin
    registering a backend under a built-in's name is still reported, by `blocks doctor`.
    """
    if collected_registry(settings) is None:
        cls = _builtin_backend(name)
        if cls is not None:
            return cls
    return get_registry(settings).secret_backend_class(name)


def _builtin_backend(name: str) -> type[SecretBackend] | None:
    """The core's backend named name, or None (not built in, or its import fails: the
    registry then says why)."""
    import importlib

    for spec in SECRET_BACKENDS:
        spec_name, _, target = (part.strip() for part in spec.partition("="))
        if spec_name == name:
            module, _, attr = target.partition(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except Exception:
                return None
    return None


def auto_backend_name(settings: Settings) -> str:
    """What `auto` picks here: keyring when a real OS keyring exists, else file."""
    key = (os.getpid(), str(settings.home))
    choice = _auto_choice.get(key)
    if choice is None:
        try:
            keyring = backend_class("keyring", settings)
        except Exception:
            keyring = None
        if keyring is not None:
            reason = keyring.unusable_reason(settings)
        else:  # its import failed: `blocks doctor` shows why
            reason = "the keyring secret backend failed to load"
        choice = "keyring" if reason is None else "file"
        if choice == "file":
            _notice_once(settings, reason)
        _auto_choice[key] = choice
    return choice


def _notice_once(settings: Settings, reason: str | None) -> None:
    marker = ensure_home(settings.home) / ".file-backend-notice"
    if marker.exists():
        return
    print(f"core-blocks: {reason}; secrets go to the encrypted file {settings.home}/secrets.db "
          "(set CORE_BLOCKS_SECRET_BACKEND to choose).", file=sys.stderr)
    try:
        marker.touch()
    except OSError:
        pass


def configured_name(settings: Settings) -> str:
    if settings.secret_backend == "auto":
        return auto_backend_name(settings)
    return settings.secret_backend


def backend_for_write(settings: Settings | None = None) -> SecretBackend:
    """The backend new secrets go to; raises with the reason when it cannot take them."""
    settings = settings or current()
    backend = backend_named(configured_name(settings), settings)
    reason = type(backend).unusable_reason(settings)
    if reason:
        raise SecretBackendError(
            f"The {backend.name!r} secret backend is not usable: {reason.rstrip('.')}. Set "
            "CORE_BLOCKS_SECRET_BACKEND to another backend (keyring, file, env)."
        )
    return backend


def backend_for_read(recorded: str | None, settings: Settings | None = None) -> SecretBackend:
    """The backend to read a document's secrets from (see the module docstring)."""
    settings = settings or current()
    if settings.secret_backend != "auto":
        explicit = backend_named(settings.secret_backend, settings)
        if not explicit.writable or not recorded:
            return explicit
    return backend_named(recorded or configured_name(settings), settings)


def reset_backends() -> None:
    """Forget backend instances and the auto choice (tests switching homes call this)."""
    with _lock:
        _instances.clear()
        _auto_choice.clear()
