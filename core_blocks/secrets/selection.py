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

from core_blocks.errors import SecretBackendError
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
        from core_blocks.registry import get_registry

        cls = get_registry().secret_backend_class(name)
        with _lock:
            backend = _instances.setdefault(key, cls(settings))
    return backend


def auto_backend_name(settings: Settings) -> str:
    """What `auto` picks here: keyring when a real OS keyring exists, else file."""
    key = (os.getpid(), str(settings.home))
    choice = _auto_choice.get(key)
    if choice is None:
        from core_blocks.registry import get_registry

        registry = get_registry()
        if "keyring" in registry.secret_backends:
            reason = registry.secret_backends["keyring"][0].unusable_reason(settings)
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
            f"The {backend.name!r} secret backend is not usable: {reason}. Set "
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
