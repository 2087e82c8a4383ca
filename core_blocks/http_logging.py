"""Keeping secret URLs out of httpx's request log.

httpx logs every request at INFO as `HTTP Request: POST <full url> ...`. A webhook URL often
embeds its token, so notifiers send inside `secret_urls_hidden()`, which rewrites the URLs
in those records to `scheme://host:port/…`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

_hiding: ContextVar[bool] = ContextVar("core_blocks_hide_urls", default=False)
_installed = False


def redact_url(url: Any) -> str:
    """The URL without its path, query or credentials."""
    parts = urlsplit(str(url))
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}/…"


class _HideUrls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _hiding.get() and isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if str(a).startswith(("http://", "https://"))
                                else a for a in record.args)
        return True


@contextmanager
def secret_urls_hidden() -> Iterator[None]:
    """Within the block, httpx log records show URLs without path or query."""
    global _installed
    if not _installed:
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).addFilter(_HideUrls())
        _installed = True
    token = _hiding.set(True)
    try:
        yield
    finally:
        _hiding.reset(token)
