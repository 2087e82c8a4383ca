"""Whether a plugin folder or file is safe to run code from, judged as ssh judges its keys.

A plugin file runs as the user who runs `blocks`. If anyone else can write the file, its
folder, or a folder above it (and so rename the plugin folder away and put their own in its
place), anyone else can run code as that user. So a plugin path must be owned by this user or
root and not writable by group or others. A folder above the plugin folder may be
world-writable when its sticky bit is set (like /tmp): others cannot then rename what is
ours inside it. The plugin folder itself and CORE_BLOCKS_HOME get no such exception.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _owner_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _path_problem(path: Path, strict: bool) -> tuple[str, str] | None:
    """(what is wrong with path, the command that fixes it), or None when only this user or
    root can change it; strict: no sticky-bit exception."""
    info = path.stat()
    me = os.geteuid()
    if info.st_uid not in (0, me):
        owners = "root" if me == 0 else f"{_owner_name(me)} or root"
        return (f"owned by {_owner_name(info.st_uid)} (not {owners})",
                f"chown {_owner_name(me)} {path}")
    writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    sticky = stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
    if writable and sticky and strict:  # a shared folder such as /tmp is better left shared
        return ("writable by others (a shared folder)",
                f"chmod go-w {path}, or move the plugins to a folder only this user can write to")
    if writable and not sticky:
        return "writable by group or others", f"chmod go-w {path}"
    return None


def _chain_problem(target: Path, strict: tuple[Path, ...]) -> tuple[Path, str, str] | None:
    """The first problem on target or a folder above it; paths in strict get no exception."""
    for path in (target, *target.parents):
        problem = _path_problem(path, strict=path == target or path in strict)
        if problem:
            return (path, *problem)
    return None


def _message(what: str, given: Path, real: Path, problem: tuple[Path, str, str],
             outcome: str) -> str:
    path, wrong, fix = problem
    where = f"is {wrong}" if path == real else f"is inside {path}, which is {wrong}"
    return (f"{what} {given} {where}, so others could run code as this user; {outcome}. "
            f"Fix with: {fix}")


def unsafe_plugin_folder(folder: Path, home: Path) -> str | None:
    """Why plugins in folder must not run, or None when only this user or root can change it.

    CORE_BLOCKS_HOME, when the folder lies inside it, is held to the folder's own rule.
    """
    if not hasattr(os, "geteuid"):  # no POSIX owners or modes (Windows): nothing to judge
        return None
    real = folder.resolve()
    real_home = home.expanduser().resolve()
    strict = (real_home,) if real == real_home or real_home in real.parents else ()
    problem = _chain_problem(real, strict)
    if problem is None:
        return None
    return _message("Plugin folder", folder, real, problem, "its plugins were not loaded")


def unsafe_plugin_file(path: Path, folder: Path) -> str | None:
    """Why the plugin file must not run, or None; its folder has passed unsafe_plugin_folder.

    A symlink is judged by the file it points to, and by that file's folders.
    """
    if not hasattr(os, "geteuid"):
        return None
    real = path.resolve()
    if real.parent == folder.resolve():
        found = _path_problem(real, strict=True)
        problem = (real, *found) if found else None
    else:
        problem = _chain_problem(real, (real.parent,))
    if problem is None:
        return None
    return _message("Plugin file", path, real, problem, "it was not loaded")
