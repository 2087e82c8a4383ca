"""How much run history to keep, and pruning the rest.

`CORE_BLOCKS_RUN_RETENTION` holds an age (`30d`, `12h`, `90m`, `45s`), a count of runs
(`100000`), both (`30d,100000`: a run goes when either says so), or `off`. The default keeps
30 days and at most 100,000 runs: about 70 MB of SQLite, where the history flush stays flat.
Only finished runs go (and runs whose heartbeat lapsed: their process died); a live run is
never pruned. The history writer prunes at its first write and then every few minutes;
`blocks runs prune` prunes now.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

from core_blocks.errors import CoreBlocksError

RETENTION_ENV = "CORE_BLOCKS_RUN_RETENTION"
DEFAULT_RETENTION = "30d,100000"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")


class RetentionError(CoreBlocksError):
    """A retention setting that cannot be read."""


@dataclass(frozen=True)
class Retention:
    """Keep runs newer than max_age seconds and at most max_runs of them (None: no bound)."""

    max_age: float | None = None
    max_runs: int | None = None

    @property
    def enabled(self) -> bool:
        return self.max_age is not None or self.max_runs is not None

    def describe(self) -> str:
        parts = []
        if self.max_age is not None:
            parts.append(f"runs newer than {_age_text(self.max_age)}")
        if self.max_runs is not None:
            parts.append(f"the newest {self.max_runs:,} runs")
        return " and ".join(parts) or "every run"


def parse_retention(text: str, source: str = RETENTION_ENV) -> Retention:
    """'30d,100000' -> Retention(30 days, 100000 runs); 'off' keeps everything.

        >>> parse_retention("12h")
        Retention(max_age=43200.0, max_runs=None)
    """
    text = text.strip().lower()
    if text in ("off", "none", "0"):
        return Retention()
    max_age = max_runs = None
    for term in (t.strip() for t in text.split(",")):
        age = _AGE.match(term)
        if age and max_age is None:
            max_age = float(age.group(1)) * _UNITS[age.group(2)]
        elif term.isdigit() and max_runs is None and int(term) > 0:
            max_runs = int(term)
        else:
            raise RetentionError(
                f"{source}={text!r} is not a retention: give an age (30d, 12h, 90m), a number "
                "of runs (100000), both separated by a comma (30d,100000), or off.")
    return Retention(max_age, max_runs)


def retention_from_env() -> Retention:
    """The retention of CORE_BLOCKS_RUN_RETENTION, or the default (30d,100000)."""
    return parse_retention(os.environ.get(RETENTION_ENV) or DEFAULT_RETENTION)


def prune_runs(store, retention: Retention, now: float | None = None) -> int:
    """Delete the finished (or lapsed) runs the retention does not keep, with their states
    and artifacts; returns how many runs went."""
    if not retention.enabled:
        return 0
    from core_blocks.store import runs

    cutoff = None
    if retention.max_age is not None:
        cutoff = (time.time() if now is None else now) - retention.max_age
    if retention.max_runs is not None:
        nth = runs.created_of_newest(store, retention.max_runs)
        if nth is not None:  # runs older than the Nth newest go
            cutoff = nth if cutoff is None else max(cutoff, nth)
    if cutoff is None:
        return 0
    return runs.prune(store, cutoff)


def _age_text(seconds: float) -> str:
    for unit, size in sorted(_UNITS.items(), key=lambda u: -u[1]):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
