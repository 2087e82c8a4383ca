"""SlackWebhook against the local Slack API's incoming webhooks: the notifier contract, sent
once (retried on 429 only), Slack's plain-text answers as one sentence each, and Block Kit."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core_blocks.errors import NotificationError
from core_blocks.testing.contracts import NotifierContract
from prefect_slack import SlackWebhook
from prefect_slack.messages import send_incoming_webhook_message
from tests.http_receiver import closed_port_url


class TestSlackWebhook(NotifierContract):
    @pytest.fixture
    def received(self, slack_api):
        return slack_api.requests

    @pytest.fixture
    def notifier(self, slack_webhook):
        return slack_webhook

    @pytest.fixture
    def unreachable_notifier(self):
        return SlackWebhook(url=closed_port_url())


def test_notify_posts_a_header_and_the_body_as_block_kit(slack_api, slack_webhook):
    slack_webhook.notify("3 rows <rejected> & logged", subject="load_orders failed")

    [message] = slack_api.messages
    assert message["channel_name"] == "alerts"
    assert message["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": "load_orders failed",
                                    "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": "3 rows &lt;rejected&gt; &amp; logged"}}]
    assert message["text"] == "load_orders failed: 3 rows &lt;rejected&gt; &amp; logged"


def test_anotify_posts_from_async_code(slack_api, slack_webhook):
    asyncio.run(slack_webhook.anotify("from async code"))

    assert slack_api.messages[0]["text"] == "from async code"


def test_notify_async_posts_like_anotify(slack_api, slack_webhook):
    asyncio.run(slack_webhook.notify_async("from Prefect 3 code", subject="etl"))

    [message] = slack_api.messages
    assert message["text"] == "etl: from Prefect 3 code"


def test_raise_on_failure_is_accepted_and_failures_raise_with_or_without_it(slack_api,
                                                                            slack_webhook):
    with slack_webhook.raise_on_failure():
        slack_webhook.notify("delivered")
    assert [m["text"] for m in slack_api.messages] == ["delivered"]

    slack_api.fail_next(500, times=2)
    with pytest.raises(NotificationError, match="HTTP 500"), slack_webhook.raise_on_failure():
        slack_webhook.notify("refused inside")
    with pytest.raises(NotificationError, match="HTTP 500"):
        slack_webhook.notify("refused outside")
    assert len(slack_api.messages) == 1


def test_get_client_sync_posts_through_slack_sdks_webhook_client(slack_api, caplog):
    from slack_sdk.webhook import WebhookClient

    url = slack_api.webhook_url("#alerts")
    hook = SlackWebhook(url=url, timeout_seconds=4)
    caplog.set_level(logging.DEBUG, logger="slack_sdk")

    client = hook.get_client(sync_client=True)
    answer = client.send(text="via the sync client", blocks=[{"type": "divider"}])

    assert isinstance(client, WebhookClient) and client.timeout == 4
    assert (answer.status_code, answer.body) == (200, "ok")
    assert [m["text"] for m in slack_api.messages] == ["via the sync client"]
    assert "Sending a request" in caplog.text and url not in caplog.text
    assert url not in repr(client)


def test_get_client_defaults_to_the_async_webhook_client(slack_api, slack_webhook):
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    client = slack_webhook.get_client()

    async def post():
        return await client.send(text="via the async client")

    answer = asyncio.run(post())
    assert isinstance(client, AsyncWebhookClient) and client.timeout == 10
    assert (answer.status_code, answer.body) == (200, "ok")
    assert [m["text"] for m in slack_api.messages] == ["via the async client"]


@pytest.mark.parametrize("sync_client", [True, False], ids=["sync", "async"])
def test_get_client_resends_after_a_429_only(slack_api, slack_webhook, sync_client):
    client = slack_webhook.get_client(sync_client=sync_client)

    def send(text):
        answer = client.send(text=text)
        return answer if sync_client else asyncio.run(answer)

    slack_api.rate_limit_next(retry_after=0, on="webhook")
    assert send("after a 429").body == "ok"
    slack_api.drop_next()
    with pytest.raises(Exception) as caught:  # slack_sdk's own error: urllib's or aiohttp's
        send("must not arrive twice")

    assert [r.status for r in slack_api.received("webhook")] == [429, 200, None]
    assert slack_webhook.url.get_secret_value() not in f"{caught.value!s} {caught.value!r}"


def test_send_incoming_webhook_message_posts_what_it_is_given(slack_api, slack_webhook):
    blocks = [{"type": "divider"}, {"type": "section", "text": {"type": "plain_text",
                                                                "text": "done"}}]
    answer = send_incoming_webhook_message(slack_webhook, text="done", slack_blocks=blocks,
                                           attachments=[{"text": "2 rows"}])

    assert answer is None  # as Prefect's task; a failure raises
    [request] = slack_api.received("webhook")
    assert request.json == {"text": "done", "attachments": [{"text": "2 rows"}],
                            "blocks": blocks}


def test_a_429_is_retried_and_the_message_posted_once(slack_api, slack_webhook):
    slack_api.rate_limit_next(retry_after=0, on="webhook")

    slack_webhook.notify("after a 429")

    assert [r.status for r in slack_api.received("webhook")] == [429, 200]
    assert len(slack_api.messages) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_never_retried(slack_api, slack_webhook, status):
    slack_api.fail_next(status)

    with pytest.raises(NotificationError, match=f"got HTTP {status}.*not sent again"):
        slack_webhook.notify("must not arrive twice")

    assert len(slack_api.received("webhook")) == 1


def test_a_dropped_connection_is_never_retried(slack_api, slack_webhook):
    slack_api.drop_next()

    with pytest.raises(NotificationError, match="could not be reached.*cannot arrive twice"):
        slack_webhook.notify("must not arrive twice")

    [request] = slack_api.received("webhook")
    assert request.status is None  # read by the server, never answered


@pytest.mark.parametrize("payload, prepare, expected", [
    ({}, None,
     "got HTTP 400 (no_text: the message has no text); fix the message (text, blocks, "
     "attachments) and send it again."),
    ({"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]}, None,
     "got HTTP 400 (invalid_blocks: a block breaks Block Kit's shape or size limits); fix the "
     "message (text, blocks, attachments) and send it again."),
    ({"text": "x"}, "archive",
     "got HTTP 410 (channel_is_archived: the webhook's channel is archived); unarchive the "
     "channel, or create a webhook for another channel and save it as url."),
    ({"text": "x"}, "revoke",
     "got HTTP 404 (no_service: the webhook was removed or its URL is wrong); create a new "
     "incoming webhook in the Slack app and save it as url."),
], ids=["no_text", "invalid_blocks", "channel_is_archived", "no_service"])
def test_slacks_webhook_answers_become_one_sentence(slack_api, payload, prepare, expected):
    url = slack_api.webhook_url("#alerts")
    if prepare == "archive":
        slack_api.channel("#alerts").is_archived = True
    if prepare == "revoke":
        url = url[:-4] + "0000"
    SlackWebhook(url=url).save("alerts")

    with pytest.raises(NotificationError) as caught:
        SlackWebhook.load("alerts").send_message(**payload)

    assert str(caught.value) == f"Slack Webhook 'alerts' {expected}"
    assert slack_api.messages == []


def test_a_body_that_is_not_json_is_invalid_payload(slack_api):
    import httpx

    answer = httpx.post(slack_api.webhook_url(), content=b"text=hi",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert (answer.status_code, answer.text) == (400, "invalid_payload")
