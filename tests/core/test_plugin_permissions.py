"""Plugin folders and files that others can change are refused, as ssh refuses such keys.

Each case plants a plugin whose import would create a marker file, makes its path unsafe for
real (chmod, chown to nobody), and checks the marker never appears and that the refusal is
one message naming the path and the fix, in `blocks types` and in `blocks doctor`.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
from pathlib import Path

import pytest

from core_blocks.registry import get_registry
from core_blocks.testing import reset_state
from tests.helpers import BLOCKS

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners and modes")

SOURCE = '''
from pathlib import Path
from core_blocks import Block, hookimpl

Path({marker!r}).write_text("ran")


class PermissionProbe{stem}(Block):
    """A block type from a plugin file that must not be loaded."""


@hookimpl
def register_block_types():
    return [PermissionProbe{stem}]
'''
CAUSE = "so others could run code as this user"


def plant(folder: Path, stem: str, tmp_path: Path) -> tuple[Path, Path]:
    """A plugin file that writes a marker when imported: (file, marker)."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = tmp_path / f"ran-{stem}"
    path = folder / f"{stem}.py"
    path.write_text(SOURCE.format(marker=str(marker), stem=stem.title().replace("_", "")))
    return path, marker


def use_dirs(monkeypatch, *folders: Path) -> None:
    monkeypatch.setenv("CORE_BLOCKS_PLUGINS_DIRS", os.pathsep.join(map(str, folders)))
    reset_state()


def file_errors() -> dict[str, str]:
    return {k: v for k, v in get_registry().errors.items() if k.startswith(("file:", "folder:"))}


def blocks(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([BLOCKS, *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "400"})


def refused_everywhere(key: str, message: str) -> None:
    """The refusal is the registry's error, a `types` warning and a `doctor` PROBLEM."""
    assert file_errors() == {key: message}
    types = blocks("types", "--json")
    assert types.returncode == 0, types.stderr
    assert json.loads(types.stdout)["plugin_errors"][key] == message
    assert f"Warning: {message}" in blocks("types").stderr.splitlines()
    doctor = blocks("doctor", "--json")
    assert doctor.returncode == 1
    [finding] = [f for f in json.loads(doctor.stdout)["findings"] if f["name"] == key]
    assert finding == {"area": "plugins", "name": key, "ok": False, "detail": message}


def test_a_world_writable_folder_is_not_run(tmp_path, monkeypatch):
    """The reported attack: a 0777 plugin folder whose file anyone could have planted."""
    folder = tmp_path / "pw"
    path, marker = plant(folder, "dropped", tmp_path)
    folder.chmod(0o777)
    use_dirs(monkeypatch, folder)

    refused_everywhere(f"folder:{folder}", (
        f"Plugin folder {folder} is writable by group or others, {CAUSE}; its plugins were "
        f"not loaded. Fix with: chmod go-w {folder}"))
    assert not marker.exists()

    folder.chmod(0o755)  # the fix the message gives
    reset_state()
    assert file_errors() == {}
    assert marker.exists()


def test_a_shared_sticky_folder_like_tmp_is_refused_as_a_plugin_folder(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    _, marker = plant(folder, "shared_probe", tmp_path)
    folder.chmod(0o1777)
    use_dirs(monkeypatch, folder)

    assert file_errors() == {f"folder:{folder}": (
        f"Plugin folder {folder} is writable by others (a shared folder), {CAUSE}; its plugins "
        f"were not loaded. Fix with: chmod go-w {folder}, or move the plugins to a folder only "
        "this user can write to")}
    assert not marker.exists()


def test_a_folder_inside_a_writable_folder_is_refused(tmp_path, monkeypatch):
    """Whoever can write the parent can rename the plugin folder and put their own there."""
    parent = tmp_path / "team"
    folder = parent / "plugins"
    _, marker = plant(folder, "nested_probe", tmp_path)
    parent.chmod(0o775)
    use_dirs(monkeypatch, folder)

    assert file_errors() == {f"folder:{folder}": (
        f"Plugin folder {folder} is inside {parent}, which is writable by group or others, "
        f"{CAUSE}; its plugins were not loaded. Fix with: chmod go-w {parent}")}
    assert not marker.exists()


def test_a_folder_under_a_sticky_folder_is_fine(tmp_path, monkeypatch):
    """Others cannot rename what is ours inside a sticky folder such as /tmp."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    _, marker = plant(shared / "mine", "under_sticky_probe", tmp_path)
    use_dirs(monkeypatch, shared / "mine")

    assert file_errors() == {}
    assert marker.exists()


def test_a_group_writable_file_is_refused_and_its_neighbours_still_load(tmp_path,
                                                                        monkeypatch):
    folder = tmp_path / "plugins"
    path, marker = plant(folder, "writable_probe", tmp_path)
    _, neighbour = plant(folder, "neighbour_probe", tmp_path)
    path.chmod(0o664)
    use_dirs(monkeypatch, folder)

    refused_everywhere("file:writable_probe", (
        f"Plugin file {path} is writable by group or others, {CAUSE}; it was not loaded. "
        f"Fix with: chmod go-w {path}"))
    assert not marker.exists()
    assert neighbour.exists()
    assert "permission-probe-neighbour-probe" in get_registry().block_types


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_file_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    path, marker = plant(folder, "foreign_probe", tmp_path)
    os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
    use_dirs(monkeypatch, folder)

    assert file_errors() == {"file:foreign_probe": (
        f"Plugin file {path} is owned by nobody (not root), {CAUSE}; it was not loaded. "
        f"Fix with: chown root {path}")}
    assert not marker.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_folder_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    _, marker = plant(folder, "foreign_folder_probe", tmp_path)
    os.chown(folder, pwd.getpwnam("nobody").pw_uid, -1)
    use_dirs(monkeypatch, folder)

    assert file_errors() == {f"folder:{folder}": (
        f"Plugin folder {folder} is owned by nobody (not root), {CAUSE}; its plugins were not "
        f"loaded. Fix with: chown root {folder}")}
    assert not marker.exists()


def test_a_symlink_is_judged_by_the_file_it_points_to(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    target, marker = plant(elsewhere, "linked_probe", tmp_path)
    elsewhere.chmod(0o777)
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "linked_probe.py").symlink_to(target)
    use_dirs(monkeypatch, folder)

    assert file_errors() == {"file:linked_probe": (
        f"Plugin file {folder / 'linked_probe.py'} is inside {elsewhere}, which is writable by "
        f"group or others, {CAUSE}; it was not loaded. Fix with: chmod go-w {elsewhere}")}
    assert not marker.exists()


def test_a_writable_home_refuses_its_default_plugin_folder(block_home, tmp_path, monkeypatch):
    """$CORE_BLOCKS_HOME and its plugins/ are held to the same rule, sticky bit or not."""
    _, marker = plant(block_home / "plugins", "home_probe", tmp_path)
    monkeypatch.delenv("CORE_BLOCKS_PLUGINS_DIRS")  # the default: $CORE_BLOCKS_HOME/plugins
    block_home.chmod(0o1777)
    reset_state()

    folder = block_home / "plugins"
    assert file_errors() == {f"folder:{folder}": (
        f"Plugin folder {folder} is inside {block_home}, which is writable by others (a shared "
        f"folder), {CAUSE}; its plugins were not loaded. Fix with: chmod go-w {block_home}, or "
        "move the plugins to a folder only this user can write to")}
    assert not marker.exists()

    block_home.chmod(0o700)
    reset_state()
    assert file_errors() == {}
    assert marker.exists()


def planted_bytecode(source: Path, code: str) -> Path:
    """Write, in source's __pycache__, bytecode of code that Python would take for source's
    own: the timestamp and size in its header are those of source."""
    import importlib.util
    import marshal
    import struct

    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.parent.mkdir(exist_ok=True)
    info = source.stat()
    header = importlib.util.MAGIC_NUMBER + struct.pack(
        "<III", 0, int(info.st_mtime) & 0xFFFFFFFF, info.st_size & 0xFFFFFFFF)
    cached.write_bytes(header + marshal.dumps(compile(code, str(source), "exec")))
    return cached


def test_bytecode_planted_in_a_writable_cache_folder_never_runs(tmp_path, monkeypatch):
    """The plugin file and its folder are safe, but its __pycache__ is world-writable (made
    under a loose umask, say): a .pyc written there must not run instead of the file."""
    folder = tmp_path / "plugins"
    path, marker = plant(folder, "cached_probe", tmp_path)
    planted = tmp_path / "ran-planted-bytecode"
    cached = planted_bytecode(path, f"open({str(planted)!r}, 'w').write('ran')")
    cached.parent.chmod(0o777)
    use_dirs(monkeypatch, folder)

    assert file_errors() == {}
    assert marker.exists()  # the file's own code ran
    assert not planted.exists()
    assert "permission-probe-cached-probe" in get_registry().block_types
    blocks("types")  # and in a `blocks` process
    assert not planted.exists()
