"""Run logging: the `core_blocks.runs` logger, `print` routed to it under log_prints, and
every record it handles masked (see core_blocks.secret_values)."""

from __future__ import annotations

import builtins
import logging
import sys
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from core_blocks.secret_values import every_form, mask_forms

if TYPE_CHECKING:
    from core_blocks.runtime.history import Run

logger = logging.getLogger("core_blocks.runs")
printing_run: ContextVar[Run | None] = ContextVar("core_blocks_print_run", default=None)
_original_print = builtins.print
_setup_lock = threading.Lock()
_handler_checked = False
_print_patched = False


class _MaskSecrets(logging.Filter):
    """Masks every secret this process knows in a run log record, before any handler sees
    it: the message, and the exception's and stack's text. An exception whose text held a
    secret is dropped from the record (its masked text stays), since a handler could format
    it again."""

    def filter(self, record: logging.LogRecord) -> bool:
        forms = every_form()
        if not forms:
            return True
        try:
            text = record.getMessage()
        except Exception:  # a broken record is the handler's to report, as without us
            return True
        masked = mask_forms(text, forms)
        if masked != text:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            masked = mask_forms(record.exc_text, forms)
            if masked != record.exc_text:
                record.exc_text, record.exc_info = masked, None
        if record.stack_info:
            record.stack_info = mask_forms(record.stack_info, forms)
        return True


# On the logger itself: its filters run once per record, whichever handlers then take it.
_mask_secrets = _MaskSecrets()
logger.addFilter(_mask_secrets)
_CHILD_PREFIX = logger.name + "."
_make_record = logging.getLogRecordFactory()


def _masked_child_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Records of child loggers (`core_blocks.runs.etl`) masked as they are made: a logger's
    filters never see its children's records, which go straight to the handlers."""
    record = _make_record(*args, **kwargs)
    if record.name.startswith(_CHILD_PREFIX):
        _mask_secrets.filter(record)
    return record


logging.setLogRecordFactory(_masked_child_record)


def get_run_logger(**extra: Any) -> logging.LoggerAdapter:
    """The run logger (`core_blocks.runs`), its records tagged with the current run's
    `run_id` and `run_name` (and `extra`), and masked like every run log record.

        @task
        def load(rows):
            get_run_logger().info("loading %d rows", len(rows))
    """
    from core_blocks.runtime.context import get_run_context

    context = get_run_context()
    if context is not None:
        extra = {"run_id": context.run.id, "run_name": context.run.name, **extra}
    ensure_visible()
    return logging.LoggerAdapter(logger, extra)


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
