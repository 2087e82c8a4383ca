"""The one retry policy of SlackCredentials' clients: slack_sdk's own retry handlers, with the
wait that a 429's Retry-After asks for capped.

slack_sdk's RateLimitErrorRetryHandler sleeps whatever Retry-After says (plus up to 1 s of
jitter); a flow should not hang for minutes on one message, so a longer wait is not retried
and becomes a SlackRateLimitError instead. Connection errors (refused, reset, dropped) are
retried RETRIES times after 0.25 s, then 0.5 s, plus up to JITTER_SECONDS each (slack_sdk's
default jitter adds up to a whole second per retry). A webhook's client, whose posts must never
arrive twice, resends only when the connection could not be opened: nothing was sent then.
"""

from __future__ import annotations

import random
from typing import Any

RETRIES = 2  # per handler: at most three sends of one request
RETRY_AFTER_CAP_SECONDS = 30.0
JITTER_SECONDS = 0.25  # spreads out clients throttled at the same moment


def capped_wait(response: Any) -> float | None:
    """Seconds to wait before resending after a 429; None when Retry-After asks too much."""
    from core_blocks.notify_http import retry_after_seconds

    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):  # slack_sdk keeps each header as a list of values
        value = value[0] if value else None
    asked = retry_after_seconds(value)
    if asked is None:
        asked = 1.0  # Slack always sends Retry-After with a 429; 1 s if a proxy dropped it
    if asked > RETRY_AFTER_CAP_SECONDS:
        return None
    return asked + random.uniform(0, JITTER_SECONDS)


def _backoff() -> Any:
    from slack_sdk.http_retry.builtin_interval_calculators import (
        BackoffRetryIntervalCalculator,
    )
    from slack_sdk.http_retry.jitter import Jitter

    class SmallJitter(Jitter):
        def recalculate(self, duration: float) -> float:
            return duration + random.uniform(0, JITTER_SECONDS)

    return BackoffRetryIntervalCalculator(backoff_factor=0.25, jitter=SmallJitter())


def sync_handlers(connection_errors: bool = True) -> list[Any]:
    """Retry handlers for WebClient; with connection_errors=False, for a client whose
    requests must never be sent twice (a webhook's), 429s and unopened connections only."""
    import socket
    import time
    from urllib.error import URLError

    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
    )

    class CappedRateLimitHandler(RateLimitErrorRetryHandler):
        def _can_retry(self, *, state, request, response=None, error=None) -> bool:
            return (super()._can_retry(state=state, request=request, response=response,
                                       error=error)
                    and capped_wait(response) is not None)

        def prepare_for_next_attempt(self, *, state, request, response=None, error=None):
            state.next_attempt_requested = True
            time.sleep(capped_wait(response) or 0.0)
            state.increment_current_attempt()

    class UnopenedConnectionHandler(ConnectionErrorRetryHandler):
        def _can_retry(self, *, state, request, response=None, error=None) -> bool:
            # a refused connection or an unknown host: the request never left
            return (isinstance(error, URLError) and response is None
                    and isinstance(error.reason, (ConnectionRefusedError, socket.gaierror)))

    handlers = [CappedRateLimitHandler(max_retry_count=RETRIES)]
    if connection_errors:
        handlers.append(ConnectionErrorRetryHandler(max_retry_count=RETRIES,
                                                    interval_calculator=_backoff()))
    else:
        handlers.append(UnopenedConnectionHandler(max_retry_count=RETRIES,
                                                  interval_calculator=_backoff()))
    return handlers


def async_handlers(connection_errors: bool = True) -> list[Any]:
    """sync_handlers() for the async clients (imports aiohttp)."""
    import asyncio

    from aiohttp import ClientConnectorError
    from slack_sdk.http_retry.builtin_async_handlers import (
        AsyncConnectionErrorRetryHandler,
        AsyncRateLimitErrorRetryHandler,
    )

    class AsyncCappedRateLimitHandler(AsyncRateLimitErrorRetryHandler):
        async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
            return (await super()._can_retry_async(state=state, request=request,
                                                   response=response, error=error)
                    and capped_wait(response) is not None)

        async def prepare_for_next_attempt_async(self, *, state, request, response=None,
                                                 error=None):
            state.next_attempt_requested = True
            await asyncio.sleep(capped_wait(response) or 0.0)
            state.increment_current_attempt()

    handlers = [AsyncCappedRateLimitHandler(max_retry_count=RETRIES)]
    if connection_errors:
        handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES,
                                                         interval_calculator=_backoff()))
    else:  # ClientConnectorError: the connection was never opened, so nothing was sent
        handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES,
                                                         interval_calculator=_backoff(),
                                                         error_types=[ClientConnectorError]))
    return handlers
