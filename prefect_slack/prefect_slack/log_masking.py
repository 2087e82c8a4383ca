"""Keeping Slack tokens out of slack_sdk's DEBUG log.

slack_sdk blanks the Authorization header in its own request log, but a token passed as a
`token=` argument lands in `body_params`, and a response can echo one. A filter on the SDK's
loggers masks every token a SlackCredentials block handed to slack_sdk, and anything shaped
like a Slack token (`xoxb-…`, `xoxp-…`), before any handler sees the record. Installed when
a client is built, so importing this package costs nothing.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "**********"
_LOGGERS = ("slack_sdk", "slack_sdk.web.base_client", "slack_sdk.web.async_base_client",
            "slack_sdk.web.slack_response", "slack_sdk.web.async_slack_response",
            "slack_sdk.web.internal_utils", "slack_sdk.web.async_internal_utils",
            "slack_sdk.http_retry", "urllib3", "aiohttp", "aiohttp.client")
_TOKEN = re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]+")
_MIN_LENGTH = 8  # shorter values are not masked: they would garble every line


class _MaskSlackTokens(logging.Filter):
    """Rewrites a record whose text holds a token; the record is always kept."""

    def __init__(self) -> None:
        super().__init__("core_blocks.slack")
        self.values: tuple[str, ...] = ()  # longest first

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is the handler's to report, as without us
            return True
        masked = mask(text, self.values)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


_filter = _MaskSlackTokens()
_lock = threading.Lock()
_installed = False


def mask(text: str, values: tuple[str, ...] = ()) -> str:
    """text with the given secret values and anything shaped like a Slack token masked.

        >>> mask("token=xoxb-1-2-abc&x=1")
        'token=**********&x=1'
    """
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return _TOKEN.sub(MASK, text)


def hide_slack_secrets(*secrets: str | None) -> None:
    """Mask these values (and any Slack-shaped token) in the SDK's log records."""
    global _installed
    new = {s for s in secrets if s and len(s) >= _MIN_LENGTH}
    with _lock:
        if new - set(_filter.values):
            _filter.values = tuple(sorted(set(_filter.values) | new, key=len, reverse=True))
        if not _installed:
            # A logger's filters see only its own records, so each logger that prints gets one.
            for name in _LOGGERS:
                logging.getLogger(name).addFilter(_filter)
            _installed = True
