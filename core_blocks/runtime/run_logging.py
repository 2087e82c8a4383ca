"""Run logging: the `core_blocks.runs` logger, and `print` routed to it under log_prints."""

from __future__ import annotations

import builtins
import logging
import sys
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core_blocks.runtime.history import Run

logger = logging.getLogger("core_blocks.runs")
printing_run: ContextVar[Run | None] = ContextVar("core_blocks_print_run", default=None)
_original_print = builtins.print
_setup_lock = threading.Lock()
_handler_checked = False
_print_patched = False


def ensure_visible() -> None:
    """Show run logs on stderr when the application configured no logging at all.

    A user's own configuration (any handler on the root logger or ours) always wins.
    """
    global _handler_checked
    if _handler_checked:
        return
    with _setup_lock:
        if not _handler_checked:
            _handler_checked = True
            if not logging.getLogger().handlers and not logger.handlers:
                handler = _FallbackHandler(sys.stderr)
                handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
                logger.addHandler(handler)
                if logger.level == logging.NOTSET:
                    logger.setLevel(logging.INFO)


class _FallbackHandler(logging.StreamHandler):
    """Our stderr handler, silent once the application configures the root logger itself."""

    def emit(self, record: logging.LogRecord) -> None:
        if not logging.getLogger().handlers:
            super().emit(record)


def route_prints() -> None:
    """Install the print wrapper once; it only acts inside runs with log_prints=True."""
    global _print_patched
    if not _print_patched:
        with _setup_lock:
            if not _print_patched:
                builtins.print = _run_print
                _print_patched = True


def _run_print(*values: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None,
               flush: bool = False) -> None:
    run = printing_run.get()
    if run is None or file not in (None, sys.stdout):
        _original_print(*values, sep=sep, end=end, file=file, flush=flush)
        return
    text = (" " if sep is None else sep).join(str(v) for v in values)
    logger.info("%s | %s", run.name, text, extra={"run_id": run.id, "run_name": run.name})
