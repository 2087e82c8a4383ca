"""Ignore files (`.prefectignore`, `.gitignore` style) for S3Bucket.put_directory.

Supported: blank lines and `#` comments, `*`, `?` and `[...]` wildcards, a leading `/` to
anchor a pattern at the folder, a trailing `/` for folders only, `**/` for any depth, and `!`
to take a path back in (the last matching line decides, as in git).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path


def locate(ignore_file: str | Path, folder: Path) -> Path:
    """The ignore file to read for an upload of folder.

    An absolute path (or one from `~`) is taken as it is. A relative one is looked for in
    folder, the folder uploaded, where a project keeps its `.prefectignore`; then in the
    working directory, where Prefect's put_directory opens it (the same folder when, as in
    Prefect's deployments, the working directory is the one uploaded).
    """
    path = Path(ignore_file).expanduser()
    candidates = [path] if path.is_absolute() else [folder / path, path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    from prefect_aws.errors import LocalPathNotFound

    places = (f"{str(path)!r}" if path.is_absolute() else
              f"{str(path)!r} in {str(folder)!r} (the folder uploaded) or in the working "
              f"directory {str(Path.cwd())!r}")
    raise LocalPathNotFound(f"No ignore file {places}. Check the ignore_file path.")


def read_patterns(path: Path) -> list[str]:
    """The patterns of an ignore file, without blank lines and comments."""
    lines = (line.rstrip("\n").rstrip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """True when the last pattern matching `relative` ('a/b.txt', '/'-separated) ignores it."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _matches(relative, pattern[1:] if negated else pattern):
            ignored = not negated
    return ignored


def _matches(relative: str, pattern: str) -> bool:
    folders_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern  # git: a slash at the start or middle anchors at the folder
    pattern = pattern.lstrip("/")
    parts = relative.split("/")
    # A file matches through itself or any folder above it; a folder pattern, folders only.
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + (0 if folders_only else 1))]
    if pattern.startswith("**/"):  # any depth: try the rest against every tail of the path
        rest = pattern[3:]
        return any(fnmatchcase("/".join(c.split("/")[n:]), rest)
                   for c in candidates for n in range(c.count("/") + 1))
    if not anchored:  # a bare name matches at any depth
        return any(fnmatchcase(c.rsplit("/", 1)[-1], pattern) for c in candidates)
    return any(fnmatchcase(c, pattern) for c in candidates)
