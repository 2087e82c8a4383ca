"""Where the block system keeps its state, read from CORE_BLOCKS_* environment variables.

Read on each use (a handful of os.environ look-ups), so tests and tools can point a
running process at another home without restarting it.
"""

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    store_url: str  # may hold a password: __repr__ shows it without
    secret_backend: str
    plugins_dirs: tuple[Path, ...]

    def __repr__(self) -> str:
        from core_blocks.store_url import describe_url

        return (f"Settings(home={str(self.home)!r}, store={describe_url(self.store_url)!r}, "
                f"secret_backend={self.secret_backend!r}, "
                f"plugins_dirs={tuple(str(d) for d in self.plugins_dirs)!r})")

    @property
    def sqlite_path(self) -> "Path | None":
        """The SQLite file behind store_url, or None for a server store."""
        if self.store_url.startswith("sqlite:///"):
            return Path(self.store_url[len("sqlite:///"):])
        return None


_ENV = ("CORE_BLOCKS_HOME", "CORE_BLOCKS_STORE_URL", "CORE_BLOCKS_PLUGINS_DIRS",
        "CORE_BLOCKS_SECRET_BACKEND", "HOME", "USERPROFILE")  # the last two: Path.home()
_parsed: dict[tuple[str | None, ...], "Settings"] = {}


def current() -> Settings:
    """The settings in force now: the variables are read on every call, and parsed once per
    combination of their values (building the paths was a sixth of a warm load)."""
    key = tuple(map(os.environ.get, _ENV))
    settings = _parsed.get(key)
    if settings is None:
        if len(_parsed) > 64:  # a process flipping through many homes (tests)
            _parsed.clear()
        settings = _parsed[key] = _parse()
    return settings


def _parse() -> Settings:
    env = os.environ
    home = Path(env.get("CORE_BLOCKS_HOME") or Path.home() / ".core_blocks").expanduser()
    store_url = env.get("CORE_BLOCKS_STORE_URL") or f"sqlite:///{home / 'blocks.db'}"
    dirs = env.get("CORE_BLOCKS_PLUGINS_DIRS")
    plugins_dirs = (
        tuple(Path(d).expanduser() for d in dirs.split(os.pathsep) if d)
        if dirs is not None
        else (home / "plugins",)
    )
    backend = (env.get("CORE_BLOCKS_SECRET_BACKEND") or "auto").strip().lower()
    return Settings(home, store_url, backend, plugins_dirs)


def check_home(home: Path) -> None:
    """Raise HomeFolderError when home is a file, lies under one, or this user cannot use it.

    Creates nothing: a missing home is fine when its nearest existing parent is a folder.
    """
    try:
        existing = home
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            where = "it is" if existing == home else f"{existing} is"
            raise _home_error(home, f"{where} a file, not a folder",
                              "Move the file aside or set CORE_BLOCKS_HOME to a folder.")
        if existing == home and not os.access(home, os.R_OK | os.W_OK | os.X_OK):
            raise _home_error(home, "this user may not read and write it", _ACCESS_FIX)
    except PermissionError:
        raise _home_error(home, "this user may not read and write it", _ACCESS_FIX) from None
    except OSError as exc:
        raise _home_error(home, exc.strerror or type(exc).__name__, _ACCESS_FIX) from None


def ensure_home(home: Path) -> Path:
    """Create the home folder, private to this user (0700: it holds the store and key).

    A path that is a file, lies under a file, or that this user cannot use raises
    HomeFolderError naming the folder and the fix, instead of an OSError traceback.
    """
    check_home(home)
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a parent this user may not write to
        raise _home_error(home, exc.strerror or type(exc).__name__, _ACCESS_FIX) from None
    return home


_ACCESS_FIX = ("Give this user access to it (chown/chmod u+rwx) or set CORE_BLOCKS_HOME to a "
               "folder this user owns.")


def _home_error(home: Path, reason: str, fix: str):
    from core_blocks.errors import HomeFolderError

    return HomeFolderError(f"Cannot use the core-blocks folder {home}: {reason}. {fix}")
