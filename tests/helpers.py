"""What several test modules share: the `blocks` script under test, and plugin folders."""

from __future__ import annotations

import sys
from pathlib import Path

# The `blocks` console script of the venv running the tests (never one on PATH).
BLOCKS = str(Path(sys.executable).with_name("blocks"))


def plugin_folder(tmp_path: Path, monkeypatch, filename: str, source: str) -> Path:
    """A plugin folder holding one file, listed in CORE_BLOCKS_PLUGINS_DIRS (so `blocks`
    subprocesses load it too), with the process's cached plugins forgotten."""
    from core_blocks.testing import reset_state

    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / filename).write_text(source)
    monkeypatch.setenv("CORE_BLOCKS_PLUGINS_DIRS", str(folder))
    reset_state()
    return folder


def file_backend_rows(home: Path) -> dict[str, bytes]:
    """The file secret backend's rows (key -> encrypted token), read with sqlite3 alone."""
    import sqlite3

    path = home / "secrets.db"
    if not path.exists():
        return {}
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT key, token FROM secrets").fetchall())
    finally:
        con.close()


def file_backend_secrets(home: Path, key: str | bytes | None = None) -> dict:
    """The file secret backend's whole content (key -> values), decrypted with cryptography
    and the test's CORE_BLOCKS_SECRET_KEY unless key is given."""
    import json
    import os

    from cryptography.fernet import Fernet

    fernet = Fernet(key or os.environ["CORE_BLOCKS_SECRET_KEY"])
    content = {}
    for name, token in file_backend_rows(home).items():
        stored_key, values = json.loads(fernet.decrypt(token))
        assert stored_key == name  # each token names the row it belongs to
        content[name] = values
    return content
