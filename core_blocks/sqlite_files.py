"""Create a SQLite file whole: built under a temporary name, then linked into place.

The store's blocks.db and the file backend's secrets.db are made this way, so neither is ever
seen half-made: a zero-byte or headless file of that name is then always damage, never a
creation in progress.

    create_whole(home / "blocks.db", lambda conn: conn.executescript(SCHEMA))
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path


def create_whole(path: Path, build: Callable[[sqlite3.Connection], object]) -> None:
    """Make the SQLite file at path with build(conn), in WAL mode, unless another process
    has made it meanwhile (theirs is kept). SQLite's errors pass through to the caller."""
    # mkstemp: 0600 before SQLite writes a byte (the -wal and -shm files copy this mode). The
    # pid in the name lets `blocks doctor --fix` tell a crashed creator's leftover.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            build(conn)
        finally:
            conn.close()  # the last connection checkpoints the WAL into the file
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:
            # A filesystem without hard links: a rename is whole too, though two processes
            # creating the file at the same instant may each put theirs.
            if not path.exists():
                os.replace(tmp, path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(tmp + suffix).unlink(missing_ok=True)
