"""Private temporary folders for files that hold secrets while a task runs (a dbt profiles.yml
with its password), and finding those that a killed process left behind.

A folder is `core-blocks-<purpose>.<pid>.<random>` in the temporary directory (TMPDIR), mode
0700, and holds a `.lock` that its process keeps locked while it uses the folder. The kernel
drops the lock when the process dies, even by `kill -9`, so `blocks doctor` tells a leftover
by a lock it can take, and `blocks doctor --fix` removes it. (Where locks are not available,
a folder is left over when the process of its name is gone.)

    with private_temp_folder("dbt") as folder:
        (folder / "profiles.yml").write_text(text)
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "core-blocks-"
_LOCK = ".lock"
_NAME = re.compile(r"^core-blocks-[a-z0-9-]+\.(\d+)\.[^./]+$")
# A folder without its lock may be one being made right now: only older ones are leftovers.
_UNLOCKED_GRACE_SECONDS = 60.0


@contextmanager
def private_temp_folder(purpose: str) -> Iterator[Path]:
    """A new folder only this user can enter, removed when the block ends (see the module)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}.{os.getpid()}."))  # 0700
    lock = None
    try:
        lock = _hold_lock(folder / _LOCK)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if lock is not None:
            os.close(lock)


def _hold_lock(path: Path) -> int:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the pid in the folder's name is all there is
        return fd
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def leftover_temp_folders(parent: Path | None = None) -> list[Path]:
    """This user's private temporary folders whose process is gone, in parent (default: the
    temporary directory)."""
    parent = Path(parent or tempfile.gettempdir())
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    me = os.geteuid() if hasattr(os, "geteuid") else None
    found = []
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed meanwhile: its run ended
        if not entry.is_dir(follow_symlinks=False) or (me is not None and info.st_uid != me):
            continue  # someone else's, or not one of ours: never touched
        if _abandoned(Path(entry.path), int(match.group(1)), info.st_mtime):
            found.append(Path(entry.path))
    return sorted(found)


def _abandoned(folder: Path, pid: int, mtime: float) -> bool:
    try:
        fd = os.open(folder / _LOCK, os.O_RDWR)
    except FileNotFoundError:  # killed before it took its lock, or being made right now
        return time.time() - mtime > _UNLOCKED_GRACE_SECONDS and not _alive(pid)
    except OSError:
        return False
    try:
        import fcntl
    except ImportError:
        os.close(fd)
        return not _alive(pid)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its process still holds it
    finally:
        os.close(fd)  # closing drops the lock taken just now
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a pid we can ask about
    return True
