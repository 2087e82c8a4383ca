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
    store_url: str
    secret_backend: str
    plugins_dirs: tuple[Path, ...]

    @property
    def sqlite_path(self) -> "Path | None":
        """The SQLite file behind store_url, or None for a server store."""
        if self.store_url.startswith("sqlite:///"):
            return Path(self.store_url[len("sqlite:///"):])
        return None


def current() -> Settings:
    """The settings in force now."""
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


def ensure_home(home: Path) -> Path:
    """Create the home folder, private to this user (0700: it holds the store and key)."""
    if not home.is_dir():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home
