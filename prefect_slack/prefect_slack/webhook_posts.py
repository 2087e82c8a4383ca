"""One post to an incoming webhook through the slack_sdk client `SlackWebhook.get_client()`
gives, as Prefect's SlackWebhook posts: a failure becomes one NotificationError naming the
block and the fix, never the URL, chaining nothing.

The client resends only after a 429 or a connection it could not open (prefect_slack.retry),
so a message never arrives twice. Slack's plain-text answer is explained by
`api_errors.explain_webhook_answer`.
"""

from __future__ import annotations

from typing import Any

from core_blocks.errors import NotificationError


def post(hook: Any, client: Any, payload: dict[str, Any]) -> str | None:
    """client.send(**payload) with a sync WebhookClient; Slack's answer ("ok") or an error."""
    from http.client import HTTPException

    try:
        response = client.send(**payload)
    except (OSError, HTTPException) as exc:
        error = unsent_error(hook, exc)
    else:
        return answer_of(hook, response)
    raise error  # outside the except block: no __context__ holding the request


async def apost(hook: Any, client: Any, payload: dict[str, Any]) -> str | None:
    """post() with an AsyncWebhookClient."""
    import asyncio

    from aiohttp import ClientError

    try:
        response = await client.send(**payload)
    except (OSError, ClientError, asyncio.TimeoutError) as exc:
        error = unsent_error(hook, exc)
    else:
        return answer_of(hook, response)
    raise error


def answer_of(hook: Any, response: Any) -> str | None:
    """Slack's answer to a 2xx post (its body); a NotificationError for any other status.

    A stand-in client's answer with no numeric status (a test double) counts as delivered.
    """
    from core_blocks.notify_http import HttpAnswer, remedy, scrubbed, secret_parts
    from prefect_slack.api_errors import WEBHOOK_REMEDIES, explain_webhook_answer

    status = getattr(response, "status_code", None)
    body = getattr(response, "body", None)
    if not isinstance(status, int) or 200 <= status < 300:
        return body if isinstance(body, str) else None
    text = body if isinstance(body, str) else ""
    reason = scrubbed(explain_webhook_answer(HttpAnswer(status, {}, text.encode())),
                      secret_parts(hook.url.get_secret_value(), ()))
    reason = f" ({reason})" if reason else ""
    raise NotificationError(f"{hook.notifier_label()} got HTTP {status}{reason}; "
                            f"{remedy(_remedies(WEBHOOK_REMEDIES), status)}.")


def unsent_error(hook: Any, exc: BaseException) -> NotificationError:
    """The error for a post that got no answer: timed out, refused or dropped."""
    from core_blocks.notify_http import remedy
    from prefect_slack.api_errors import WEBHOOK_REMEDIES

    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the cause
    cause = reason if isinstance(reason, BaseException) else exc
    kind = type(cause).__name__
    fixes = _remedies(WEBHOOK_REMEDIES)
    if isinstance(cause, TimeoutError) or kind in ("TimeoutError", "ServerTimeoutError"):
        return NotificationError(
            f"{hook.notifier_label()} got no answer within {hook.timeout_seconds:g} s "
            f"({kind}); the message was not sent again, so it cannot arrive twice; "
            f"{remedy(fixes, 'timeout')}.")
    return NotificationError(f"{hook.notifier_label()} could not be reached ({kind}); "
                             f"{remedy(fixes, 'unreachable')}.")


def _remedies(overrides: dict[int | str, str]) -> dict[int | str, str]:
    from core_blocks.notify_http import DEFAULT_REMEDIES

    return {**DEFAULT_REMEDIES, **overrides}
