"""The one place that calls dbt: its programmatic runner, in this process, one at a time.

dbt's flags, adapter registry and event manager are process-wide, so two invocations at once
would mix them up: a lock runs them one after the other.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
SECRET_ENV_PREFIX = "DBT_ENV_SECRET_"  # dbt's own mark of an environment variable as secret
# The modules that took dbt's env_secrets by name: dbt scrubs with it the lines of its log
# file, its messages and its exceptions.
_SCRUBBING_MODULES = ("dbt_common.exceptions.base", "dbt_common.exceptions",
                      "dbt_common.events.functions",
                      "dbt_common.exceptions.system", "dbt_common.exceptions.events",
                      "dbt.exceptions", "dbt.deps.git", "dbt.deps.tarball",
                      "dbt.context.exceptions_jinja")


@contextmanager
def dbt_session(keep_open: Callable[[], bool] = lambda: False) -> Iterator[None]:
    """Hold the process's one dbt invocation: dbt scrubs every secret this process knows
    (block values read, DBT_ENV_SECRET_ variables) from its own log file and errors, and
    dbt-duckdb lets go of its database file afterwards unless `keep_open()` says not to."""
    _remember_dbt_env_secrets()
    with _lock:
        _scrub_known_secrets()
        try:
            yield
        finally:
            if not keep_open():
                _release_duckdb()


def _remember_dbt_env_secrets() -> None:
    """Mask the values of DBT_ENV_SECRET_ variables in our runs and logs too: dbt treats them
    as secret, and a profile may use them."""
    from core_blocks.secret_values import remember_read

    values = [v for k, v in os.environ.items() if k.startswith(SECRET_ENV_PREFIX) and v.strip()]
    if values:
        remember_read(values)


def _scrub_known_secrets() -> None:
    """Make dbt's env_secrets (what dbt scrubs from dbt.log and its errors) also name the
    secrets this process knows; done once per process, after dbt is imported."""
    from dbt_common.exceptions import base

    from core_blocks.secret_values import every_form

    if getattr(base.env_secrets, "_core_blocks", False):
        return
    dbts_own = base.env_secrets

    def env_secrets() -> list[str]:
        return [*dbts_own(), *every_form()]

    env_secrets._core_blocks = True  # type: ignore[attr-defined]
    for name in _SCRUBBING_MODULES:
        module = sys.modules.get(name)
        if module is None:
            try:
                module = __import__(name, fromlist=["env_secrets"])
            except ImportError:  # another dbt version: one place fewer to scrub
                continue
        if getattr(module, "env_secrets", None) is dbts_own:
            module.env_secrets = env_secrets


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

    with dbt_session():
        return runner_class(callbacks=[callback]).invoke(args, **kwargs)


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
