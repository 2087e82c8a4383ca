"""Pointing the block system at a throw-away home, and forgetting cached state."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def reset_state() -> None:
    """Close stores and forget backends, plugins and the secrets read (masked in run text)
    cached for earlier settings."""
    import sys

    history = sys.modules.get("core_blocks.runtime.history")
    if history is not None:
        history.flush()  # run records still queued belong to the store being closed
    from core_blocks.registry import reset_registry
    from core_blocks.secret_values import forget_read
    from core_blocks.secrets.selection import reset_backends
    from core_blocks.store import reset_stores

    reset_stores()
    reset_backends()
    reset_registry()
    forget_read()  # a test's output must not depend on the secrets earlier tests read


@contextmanager
def isolated_home(home: Path, secret_backend: str = "file",
                  store_url: str | None = None) -> Iterator[Path]:
    """Run the block system in `home`: its own SQLite store, key and encrypted secrets.

    Plugin folders are cleared (set CORE_BLOCKS_PLUGINS_DIRS inside to add some); entry-point
    plugins still load. The previous environment comes back afterwards.
    """
    from cryptography.fernet import Fernet

    names = ("CORE_BLOCKS_HOME", "CORE_BLOCKS_STORE_URL", "CORE_BLOCKS_SECRET_BACKEND",
             "CORE_BLOCKS_SECRET_KEY", "CORE_BLOCKS_PLUGINS_DIRS")
    saved = {n: os.environ.get(n) for n in names}
    home.mkdir(mode=0o700, parents=True, exist_ok=True)  # as ensure_home makes it: private
    os.environ.update(CORE_BLOCKS_HOME=str(home), CORE_BLOCKS_SECRET_BACKEND=secret_backend,
                      CORE_BLOCKS_SECRET_KEY=Fernet.generate_key().decode(),
                      CORE_BLOCKS_PLUGINS_DIRS="")
    if store_url:
        os.environ["CORE_BLOCKS_STORE_URL"] = store_url
    else:
        os.environ.pop("CORE_BLOCKS_STORE_URL", None)
    reset_state()
    try:
        yield home
    finally:
        reset_state()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
