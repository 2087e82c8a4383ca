"""Whether output is for a person at a terminal: progress bars show only then."""

from __future__ import annotations

import os
import sys


def progress_enabled() -> bool:
    """A progress bar only when stderr is a terminal and CI is not set (a CI log would fill
    with frames)."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # stderr replaced or closed
        return False
