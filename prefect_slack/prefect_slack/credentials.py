"""SlackCredentials (a token for Slack's Web API) and SlackWebhook (an incoming webhook).

Import paths follow Prefect's prefect-slack: `from prefect_slack.credentials import
SlackCredentials, SlackWebhook`. slack_sdk is imported only by the methods that build a client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator

from core_blocks.abstract import CredentialsBlock, NotificationBlock
from core_blocks.dispatch import async_dispatch, threaded_dispatch

if TYPE_CHECKING:
    from core_blocks.runtime.notify import RunSummary

SLACK_API_URL = "https://slack.com/api/"


class SlackCredentials(CredentialsBlock):
    """A Slack bot or user token, and the Web API clients built from it.

    Both clients retry a 429 after Retry-After (when it asks for 30 s or less) and a failed
    connection twice (`prefect_slack.retry`).

        >>> creds = SlackCredentials(token="xoxb-0000-example")
        >>> creds.get_sync_client().chat_postMessage(channel="#alerts", text="hi")  # doctest: +SKIP
    """

    _block_type_name = "Slack Credentials"
    _description = "A Slack token (bot xoxb-… or user xoxp-…) for Slack's Web API."
    _documentation_url = "https://api.slack.com/authentication/token-types"

    token: SecretStr = Field(description="Bot or user OAuth token (xoxb-… or xoxp-…); secret")
    base_url: str = Field(
        default=SLACK_API_URL,
        description="Web API base URL; https://slack-gov.com/api/ for GovSlack, or a test "
                    "server's")
    timeout_seconds: int = Field(default=30, gt=0,
                                 description="Seconds to wait for each Web API answer")

    def label(self) -> str:
        """How errors name this block: "SlackCredentials 'bot'", or "(unsaved)"."""
        name = self.saved_name
        return f"SlackCredentials {name!r}" if name else "SlackCredentials (unsaved)"

    def _client_kwargs(self) -> dict[str, Any]:
        from prefect_slack.log_masking import hide_slack_secrets

        token = self.token.get_secret_value()
        hide_slack_secrets(token)
        return {"token": token, "base_url": _with_slash(self.base_url),
                "timeout": self.timeout_seconds}

    def get_client(self) -> Any:
        """slack_sdk's AsyncWebClient with this token (for async flows; needs aiohttp)."""
        from slack_sdk.web.async_client import AsyncWebClient

        from prefect_slack.retry import async_handlers

        return AsyncWebClient(**self._client_kwargs(), retry_handlers=async_handlers())

    def get_sync_client(self) -> Any:
        """slack_sdk's WebClient with this token."""
        from slack_sdk import WebClient

        from prefect_slack.retry import sync_handlers

        return WebClient(**self._client_kwargs(), retry_handlers=sync_handlers())


class SlackWebhook(NotificationBlock):
    """A Slack incoming webhook: notify() posts to its channel through get_client()'s client.

    A post is never sent twice: Slack may have posted a message whose answer was lost, so it
    is retried only when Slack answered 429 or the connection could not be opened. As a flow
    hook, `notify("slack-webhook/alerts")` posts the flow, run, state, error and duration.

        >>> hook = SlackWebhook(url="https://hooks.slack.com/services/T0/B0/XXXX")
        >>> hook.notify("nightly export failed", subject="etl")  # doctest: +SKIP
    """

    _block_type_name = "Slack Webhook"
    _description = "A Slack incoming webhook URL, for alerts and notifications."
    _documentation_url = "https://api.slack.com/messaging/webhooks"

    url: SecretStr = Field(
        description="Incoming webhook URL (https://hooks.slack.com/services/…); secret, since "
                    "anyone holding it can post")
    timeout_seconds: float = Field(default=10.0, gt=0,
                                   description="Seconds to wait for Slack's answer")

    @field_validator("url")
    @classmethod
    def _url_is_https(cls, value: SecretStr) -> SecretStr:
        problem = _webhook_url_problem(value.get_secret_value())
        if problem:  # never quoted: anyone holding the URL can post
            raise ValueError("must be the webhook's https:// URL, e.g. "
                             f"https://hooks.slack.com/services/T0/B0/XXXX; this one {problem}")
        return value

    def get_client(self, sync_client: bool = False) -> Any:
        """slack_sdk's AsyncWebhookClient for this webhook (needs aiohttp), or its
        WebhookClient with sync_client=True, as Prefect's; the URL stays out of the SDK's log.

        Its posts (notify()'s too) are resent only after a 429 (Retry-After up to 30 s) or a
        connection that could not be opened, never after a dropped one: Slack may have
        posted the message already.

            >>> hook.get_client(sync_client=True).send(text="done").body  # doctest: +SKIP
            'ok'
        """
        from prefect_slack.log_masking import hide_slack_secrets

        url = self.url.get_secret_value()
        hide_slack_secrets(url)
        if sync_client:
            from slack_sdk.webhook import WebhookClient

            from prefect_slack.retry import sync_handlers

            return WebhookClient(url=url, timeout=self.timeout_seconds,
                                 retry_handlers=sync_handlers(connection_errors=False))
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        from prefect_slack.retry import async_handlers

        return AsyncWebhookClient(url=url, timeout=self.timeout_seconds,
                                  retry_handlers=async_handlers(connection_errors=False))

    async def notify_async(self, body: str, subject: str | None = None) -> None:
        """notify() for async code, through the AsyncWebhookClient get_client() gives."""
        from prefect_slack.block_kit import notification
        from prefect_slack.webhook_posts import apost

        await apost(self, self.get_client(), notification(body, subject))

    async def anotify(self, body: str, subject: str | None = None) -> None:
        """notify_async() under the core's name."""
        await self.notify_async(body, subject)

    @async_dispatch(notify_async)
    def notify(self, body: str, subject: str | None = None) -> None:
        """Post body as the message text, as Prefect's SlackWebhook does; with a subject, a
        Block Kit card (the subject as its header). Raise NotificationError when Slack does
        not take it. In async code, an awaitable (notify_async)."""
        from prefect_slack.block_kit import notification
        from prefect_slack.webhook_posts import post

        post(self, self.get_client(sync_client=True), notification(body, subject))

    @threaded_dispatch
    def send_message(self, text: str | None = None, attachments: list[dict] | None = None,
                     blocks: list[dict] | None = None) -> str:
        """Post a message; return Slack's answer ("ok") or raise NotificationError."""
        from prefect_slack.webhook_posts import post

        return post(self, self.get_client(sync_client=True),
                    {"text": text, "attachments": attachments, "blocks": blocks}) or ""

    def notify_run(self, run: RunSummary) -> None:
        """Post a run alert: flow, run, state, error and duration as Block Kit."""
        from prefect_slack.block_kit import run_message

        self.send_message(**run_message(run), _sync=True)


_SLACK_HOSTS = ("slack.com", "slack-gov.com")


def _webhook_url_problem(url: str) -> str | None:
    """Why url cannot be a webhook's, in words that never quote it; None if it can.

    Slack serves https:// only, so http:// to Slack is refused; http:// to another host (a
    Slack-compatible receiver, a relay, a test server) is allowed, as Prefect allows it, with
    a warning unless it is this machine: the URL, a secret, then crosses the network unencrypted.
    """
    from urllib.parse import urlsplit

    from core_blocks.notify_http import http_url_problem

    problem = http_url_problem(url)
    if problem:
        return problem
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme == "https" or host in ("localhost", "127.0.0.1", "::1"):
        return None
    if any(host == slack or host.endswith("." + slack) for slack in _SLACK_HOSTS):
        return "is http://, which sends it unencrypted; use https://"
    import warnings

    warnings.warn("A SlackWebhook url is http:// to a host other than this machine: the URL, "
                  "which lets anyone post, crosses the network unencrypted; use https:// "
                  "where the receiver supports it.", UserWarning, stacklevel=2)
    return None


def _with_slash(url: str) -> str:
    # slack_sdk appends the method name to base_url as is: ".../api" + "chat.postMessage".
    return url if url.endswith("/") else url + "/"
