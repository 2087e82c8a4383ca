"""Keeping Slack tokens out of slack_sdk's DEBUG log.

slack_sdk blanks the Authorization header in its own request log, but a token passed as a
`token=` argument lands in `body_params`, and a response can echo one. A filter on the SDK's
loggers masks every token a SlackCredentials block (or webhook URL a SlackWebhook) handed to
slack_sdk, and anything shaped
like a Slack token (`xoxb-…`, `xoxp-…`), before any handler sees the record. Installed when
a client is built, so importing this package costs nothing.
"""

from __future__ import annotations

import re

from core_blocks.log_masking import MASK, SecretLogFilter

__all__ = ["MASK", "hide_slack_secrets", "mask"]

_LOGGERS = ("slack_sdk", "slack_sdk.web.base_client", "slack_sdk.web.async_base_client",
            "slack_sdk.web.slack_response", "slack_sdk.web.async_slack_response",
            "slack_sdk.web.internal_utils", "slack_sdk.web.async_internal_utils",
            "slack_sdk.webhook.client", "slack_sdk.webhook.async_client",
            "slack_sdk.http_retry", "urllib3", "aiohttp", "aiohttp.client")
_TOKEN = re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]+")
_filter = SecretLogFilter("core_blocks.slack", [_TOKEN], min_length=8)


def mask(text: str, values: tuple[str, ...] = ()) -> str:
    """text with the given secret values and anything shaped like a Slack token masked.

        >>> mask("token=xoxb-1-2-abc&x=1")
        'token=**********&x=1'
    """
    return _filter.mask(text, values)


def hide_slack_secrets(*secrets: str | None) -> None:
    """Mask these values (and any Slack-shaped token) in the SDK's log records."""
    _filter.add_values(*secrets)
    _filter.install(_LOGGERS)
