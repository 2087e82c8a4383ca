"""Lines from the engine (build output, container logs) sent to the run's logger."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core_blocks.runtime.context import get_run_context

_package_logger = logging.getLogger("prefect_docker")


def run_logger() -> Callable[[str], None]:
    """A function logging one line at INFO on the current run's logger (`core_blocks.runs`,
    tagged with the run), or on the `prefect_docker` logger outside any run.

    Taken in the caller's thread: the returned function may run in another one.
    """
    context = get_run_context()
    if context is None:
        return lambda line: _package_logger.info("%s", line)
    from core_blocks.runtime.run_logging import ensure_visible, logger

    ensure_visible()
    run = context.run
    extra = {"run_id": run.id, "run_name": run.name}
    return lambda line: logger.info("%s | %s", run.name, line, extra=extra)
