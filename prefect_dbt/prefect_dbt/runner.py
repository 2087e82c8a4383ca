"""The one place that calls dbt: its programmatic runner, in this process, one at a time.

dbt's flags, adapter registry and event manager are process-wide, so two invocations at once
would mix them up: a lock runs them one after the other.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()


def invoke(args: list[str], on_event: Callable[[str, str], None], **kwargs: Any) -> Any:
    """Run dbt with `args` (no leading "dbt") and dbt's keyword options; `on_event(level,
    message)` gets every log line as dbt emits it, from whichever thread emits it. Returns
    dbt's dbtRunnerResult."""
    from dbt.cli.main import dbtRunner

    def callback(event: Any) -> None:
        on_event(event.info.level, event.info.msg)

    with _lock:
        try:
            return dbtRunner(callbacks=[callback]).invoke(args, **kwargs)
        finally:
            _release_duckdb()


def _release_duckdb() -> None:
    """Let go of dbt-duckdb's database: it keeps the file open (and locked against other
    processes) between invocations otherwise."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is not None:
        manager = connections.DuckDBConnectionManager
        env = manager._ENV
        manager.close_all_connections()
        close = getattr(env, "close", None)
        if close is not None:
            close()
