"""Slack tasks: a chat message, an incoming-webhook message, a file upload.

Each returns Slack's answer (the webhook's task None, as Prefect's) and turns Slack's error
codes into one sentence naming the channel or block and the fix (`prefect_slack.api_errors`).
None retries at the task level: the client already resends after a 429 or a failed connection
(`prefect_slack.retry`), and a message must not be posted twice. They follow Prefect 3's
sync-or-async rule (core_blocks.dispatch): `await send_chat_message(...)` in an async flow
posts through the credentials' async client, as Prefect's async tasks do, and the same call
without await in a sync flow through the sync client.

    from prefect_slack import SlackCredentials
    from prefect_slack.messages import send_chat_message

    send_chat_message("#alerts", SlackCredentials.load("bot"), text="nightly export done")
"""

from __future__ import annotations

from pathlib import Path

from core_blocks.dispatch import async_dispatch, threaded_dispatch
from core_blocks.tasks import task
from prefect_slack import api
from prefect_slack.api_errors import acall_slack, call_slack, web_api_error
from prefect_slack.credentials import SlackCredentials, SlackWebhook
from prefect_slack.webhook_posts import apost, post

_TASK = {"retries": 0, "tags": ["slack"]}


@task(name="send_chat_message", **_TASK)
async def asend_chat_message(channel: str, slack_credentials: SlackCredentials,
                             text: str | None = None, attachments: list[dict] | None = None,
                             slack_blocks: list[dict] | None = None,
                             thread_ts: str | None = None) -> dict:
    """send_chat_message() for async code, through get_client()'s AsyncWebClient."""
    client = slack_credentials.get_client()
    return await acall_slack(
        lambda: api.apost_message(client, channel, text, attachments, slack_blocks, thread_ts),
        slack_credentials, "chat.postMessage", channel)


@async_dispatch(asend_chat_message)
@task(**_TASK)
def send_chat_message(channel: str, slack_credentials: SlackCredentials,
                      text: str | None = None, attachments: list[dict] | None = None,
                      slack_blocks: list[dict] | None = None,
                      thread_ts: str | None = None) -> dict:
    """Post a message (text, attachments or Block Kit blocks) to a channel, or in a thread
    with thread_ts; return Slack's answer (ok, channel, ts, message).

    In async code, an awaitable posting through get_client()'s AsyncWebClient, as
    Prefect's task does; in sync code, through get_sync_client()'s WebClient.

        >>> send_chat_message("#alerts", SlackCredentials.load("bot"),
        ...                   text="done")["ok"]  # doctest: +SKIP
        True
    """
    client = slack_credentials.get_sync_client()
    return call_slack(
        lambda: api.post_message(client, channel, text, attachments, slack_blocks, thread_ts),
        slack_credentials, "chat.postMessage", channel)


@task(name="send_incoming_webhook_message", **_TASK)
async def asend_incoming_webhook_message(slack_webhook: SlackWebhook, text: str | None = None,
                                         attachments: list[dict] | None = None,
                                         slack_blocks: list[dict] | None = None) -> None:
    """send_incoming_webhook_message() for async code, through get_client()'s
    AsyncWebhookClient."""
    await apost(slack_webhook, slack_webhook.get_client(),
                {"text": text, "attachments": attachments, "blocks": slack_blocks})


@async_dispatch(asend_incoming_webhook_message)
@task(**_TASK)
def send_incoming_webhook_message(slack_webhook: SlackWebhook, text: str | None = None,
                                  attachments: list[dict] | None = None,
                                  slack_blocks: list[dict] | None = None) -> None:
    """Post a message through an incoming webhook; return None, as Prefect's task does, or
    raise NotificationError when Slack does not take it.

    Sent once: resent only after a 429 or a connection that could not be opened. In async
    code, an awaitable posting through get_client()'s AsyncWebhookClient.

        >>> send_incoming_webhook_message(SlackWebhook.load("alerts"),
        ...                               text="done")  # doctest: +SKIP
    """
    post(slack_webhook, slack_webhook.get_client(sync_client=True),
         {"text": text, "attachments": attachments, "blocks": slack_blocks})


@threaded_dispatch
@task(**_TASK)
def upload_file(channel: str, slack_credentials: SlackCredentials,
                path_or_bytes: str | Path | bytes, filename: str,
                title: str | None = None) -> dict:
    """Share a file (a local path, or its content as bytes) in a channel, given by name or
    ID; return Slack's answer (ok, file, files).

        >>> upload_file("#alerts", SlackCredentials.load("bot"), "report.csv",
        ...             "report.csv")["file"]["id"]  # doctest: +SKIP
        'F0123ABCDEF'
    """
    content = path_or_bytes if isinstance(path_or_bytes, bytes) else \
        Path(path_or_bytes).read_bytes()
    client = slack_credentials.get_sync_client()
    found = call_slack(lambda: api.channel_id(client, channel), slack_credentials,
                       "conversations.list", channel)
    if found is None:
        raise web_api_error("channel_not_found", who=slack_credentials.label(),
                            method="files.upload", channel=channel)
    return call_slack(lambda: api.upload(client, found, content, filename, title),
                      slack_credentials, "files.upload", channel)
