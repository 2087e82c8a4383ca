"""What several test modules share: the `blocks` script under test, plugin folders, the file
secret backend's rows, an in-memory secret backend plugin, and overlap counters."""

from __future__ import annotations

import sys
import threading
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


def secret_keys() -> set[str]:
    """The keys held by the encrypted-file secret backend of the current home."""
    from core_blocks.settings import current

    return set(file_backend_rows(current().home))


def memory_vault_plugin(name: str) -> str:
    """A plugin file's source registering a secret backend called name that keeps secrets in
    the module's VAULT dict (gone when the process ends)."""
    return f'''\
from core_blocks import hookimpl
from core_blocks.secrets.base import SecretBackend

VAULT = {{}}


class MemoryVault(SecretBackend):
    """Secrets in a dict: gone when the process ends."""

    name = {name!r}
    description = "In-process dict, for tests"

    def read(self, key, ref):
        values = VAULT.get(key)
        return dict(values) if values is not None else None

    def write(self, key, values, ref):
        VAULT[key] = dict(values)

    def delete(self, key):
        VAULT.pop(key, None)


@hookimpl
def register_secret_backends():
    return [MemoryVault]
'''


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one time (an interval ending as another starts: no overlap)."""
    events = sorted([(end, -1) for _, end in intervals] + [(start, 1) for start, _ in intervals])
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


class Peak:
    """Counts how many callers are inside at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


def spawn_blocks(*args: str):
    """`blocks ARGS` on a real pseudo-terminal; everything it prints is kept in .transcript."""
    import io

    import pexpect

    child = pexpect.spawn(BLOCKS, list(args), encoding="utf-8", timeout=30,
                          dimensions=(40, 200))
    child.transcript = io.StringIO()
    child.logfile_read = child.transcript
    return child


def finish(child) -> int:
    """Wait for a spawned `blocks` to end; its exit status."""
    import pexpect

    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus
