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


def invoke(args: list[str], on_event: Callable[[str, str], None],
           on_node_finished: Callable[[str, str, str], None] | None = None,
           runner_class: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Run dbt with `args` (no leading "dbt") and dbt's keyword options; `on_event(level,
    message)` gets every log line as dbt emits it, from whichever thread emits it, and
    `on_node_finished(unique_id, status, message)` each node's end. `runner_class` stands
    in for dbt's dbtRunner (a caller's own lookup of it). Returns dbt's dbtRunnerResult."""
    if runner_class is None:
        from dbt.cli.main import dbtRunner as runner_class

    def callback(event: Any) -> None:
        on_event(event.info.level, event.info.msg)
        if on_node_finished is not None and event.info.name == "NodeFinished":
            info = event.data.node_info
            on_node_finished(info.unique_id, info.node_status, event.info.msg)

    with _lock:
        try:
            return runner_class(callbacks=[callback]).invoke(args, **kwargs)
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
