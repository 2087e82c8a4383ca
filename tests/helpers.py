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
