"""Ignore files (`.prefectignore`, `.gitignore` style) for S3Bucket.put_directory.

Supported: blank lines and `#` comments, `*`, `?` and `[...]` wildcards, a leading `/` to
anchor a pattern at the folder, a trailing `/` for folders only, `**/` for any depth, and `!`
to take a path back in (the last matching line decides, as in git).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path


def read_patterns(ignore_file: str | Path) -> list[str]:
    """The patterns of an ignore file, without blank lines and comments."""
    path = Path(ignore_file).expanduser()
    if not path.is_file():
        from prefect_aws.errors import LocalPathNotFound

        raise LocalPathNotFound(f"No ignore file {str(path)!r}. Check the ignore_file path.")
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
