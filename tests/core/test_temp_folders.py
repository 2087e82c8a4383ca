"""Private temporary folders: 0700, removed after use, and a killed process's folder found as a
leftover while a running process's is not."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

from core_blocks.temp_folders import leftover_temp_folders, private_temp_folder

HOLD = '''
import time
from core_blocks.temp_folders import private_temp_folder

with private_temp_folder("probe") as folder:
    (folder / "profiles.yml").write_text("password: hunter2")
    print(folder, flush=True)
    time.sleep(120)
'''


def test_a_folder_is_private_and_removed_after_use(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    with private_temp_folder("probe") as folder:
        assert folder.parent == tmp_path
        assert folder.name.startswith(f"core-blocks-probe.{os.getpid()}.")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert leftover_temp_folders(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_only_the_folder_of_a_killed_process_is_a_leftover(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        folder = Path(holder.stdout.readline().strip())
        assert folder.parent == tmp_path
        assert leftover_temp_folders(tmp_path) == []  # its process holds the lock

        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    (tmp_path / "core-blocks-look-alike").mkdir()  # not one of ours by its name
    (tmp_path / "other.txt").write_text("x")

    assert leftover_temp_folders(tmp_path) == [folder]
    assert (folder / "profiles.yml").exists()
