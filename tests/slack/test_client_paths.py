"""Posts go through the slack_sdk client the block's get_client() gives, looked up at each
call as in Prefect's prefect-slack: notify, notify_async and both tasks, sync and async,
against the local Slack API with real slack_sdk clients."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from core_blocks import flow
from core_blocks.errors import NotificationError
from prefect_slack import SlackChannelError, SlackWebhook
from prefect_slack.messages import send_chat_message, send_incoming_webhook_message


@pytest.fixture
def rerouted(slack_api, slack_webhook):
    """slack_webhook whose get_client is replaced on the instance, as Prefect's tests patch
    it: it hands out #general's real clients and records each call's sync_client."""
    general = SlackWebhook(url=slack_api.webhook_url("#general"))
    calls = []

    def get_client(sync_client=False):
        calls.append(sync_client)
        return general.get_client(sync_client=sync_client)

    slack_webhook.get_client = get_client
    return slack_webhook, calls


def test_notify_posts_the_body_as_text_as_is(slack_api, slack_webhook):
    slack_webhook.notify("load <https://example.com/run/7|run 7> failed & retried")

    [message] = slack_api.messages
    assert message["text"] == "load <https://example.com/run/7|run 7> failed & retried"
    assert "blocks" not in slack_api.received("webhook")[0].json


def test_notify_uses_the_sync_client_get_client_gives_at_call_time(slack_api, rerouted):
    hook, calls = rerouted

    hook.notify("via the replaced get_client")

    assert calls == [True]
    assert [(m["channel_name"], m["text"]) for m in slack_api.messages] == [
        ("general", "via the replaced get_client")]


def test_notify_async_and_awaited_notify_use_the_async_client(slack_api, rerouted):
    hook, calls = rerouted

    async def main():
        await hook.notify_async("one")
        await hook.notify("two", subject="etl")

    asyncio.run(main())
    assert calls == [False, False]
    assert [m["text"] for m in slack_api.messages] == ["one", "etl: two"]
    assert slack_api.messages[1]["blocks"][0]["type"] == "header"


def test_a_replaced_get_client_stays_out_of_the_saved_block(slack_api, rerouted, block_home):
    hook, _ = rerouted
    hook.save("alerts")

    assert set(SlackWebhook.load("alerts").model_dump()) == {"url", "timeout_seconds"}


@pytest.mark.parametrize("status", [500, 503])
def test_async_notify_raises_once_and_never_resends_after_a_server_error(slack_api,
                                                                        slack_webhook,
                                                                        status):
    slack_api.fail_next(status)

    with pytest.raises(NotificationError, match=f"got HTTP {status}.*not sent again") as caught:
        asyncio.run(slack_webhook.notify_async("must not arrive twice"))

    assert len(slack_api.received("webhook")) == 1
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_async_notify_after_a_dropped_connection_is_not_resent(slack_api, slack_webhook):
    slack_api.drop_next()

    with pytest.raises(NotificationError, match="could not be reached.*cannot arrive twice"):
        asyncio.run(slack_webhook.notify_async("must not arrive twice"))

    [request] = slack_api.received("webhook")
    assert request.status is None


def test_async_notify_after_a_429_posts_once(slack_api, slack_webhook):
    slack_api.rate_limit_next(retry_after=0, on="webhook")

    asyncio.run(slack_webhook.notify_async("after a 429"))

    assert [r.status for r in slack_api.received("webhook")] == [429, 200]


def test_async_webhook_task_posts_through_get_client_and_returns_none(slack_api, rerouted):
    hook, calls = rerouted

    @flow
    async def nightly():
        return await send_incoming_webhook_message(hook, text="done",
                                                   attachments=[{"text": "2 rows"}])

    assert asyncio.run(nightly()) is None
    assert calls == [False]
    [request] = slack_api.received("webhook")
    assert request.json == {"text": "done", "attachments": [{"text": "2 rows"}]}


def test_async_webhook_task_raises_what_slack_refused(slack_api, slack_webhook):
    slack_api.channel("#alerts").is_archived = True

    @flow
    async def nightly():
        await send_incoming_webhook_message(slack_webhook, text="x")

    with pytest.raises(NotificationError, match="got HTTP 410 \\(channel_is_archived"):
        asyncio.run(nightly())


def test_async_chat_message_posts_through_get_client(slack_api, slack_credentials):
    calls = []
    real = slack_credentials.get_client

    def get_client():
        calls.append("async")
        return real()

    slack_credentials.get_client = get_client

    @flow
    async def nightly():
        parent = await send_chat_message("#alerts", slack_credentials, text="started")
        await send_chat_message("#alerts", slack_credentials, text="reply",
                                thread_ts=parent["ts"])
        return parent

    parent = asyncio.run(nightly())
    assert calls == ["async", "async"] and parent["ok"] is True
    assert [(m["text"], m.get("thread_ts")) for m in slack_api.messages] == [
        ("started", None), ("reply", parent["ts"])]


def test_async_chat_message_errors_are_one_sentence(slack_api, slack_credentials):
    async def main():
        await send_chat_message("#nowhere", slack_credentials, text="x")

    with pytest.raises(SlackChannelError, match="found no channel '#nowhere'") as caught:
        asyncio.run(main())

    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_async_chat_message_to_an_unreachable_api_names_the_block(slack_credentials):
    from prefect_slack import SlackConnectionError
    from tests.http_receiver import closed_port_url

    broken = slack_credentials.model_copy(update={"base_url": closed_port_url() + "/api/"})

    async def main():
        await send_chat_message("#alerts", broken, text="x")

    with pytest.raises(SlackConnectionError, match="could not reach Slack's API"):
        asyncio.run(main())


def test_http_url_to_slack_is_refused_and_to_another_host_warns(slack_api):
    from core_blocks.errors import BlockValidationError

    with pytest.raises(BlockValidationError, match="is http://, which sends it unencrypted"):
        SlackWebhook(url="http://hooks.slack.com/services/T0/B0/XXXX")
    with pytest.warns(UserWarning, match="crosses the network unencrypted"):
        SlackWebhook(url="http://chat.internal:8065/hooks/abc123")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SlackWebhook(url=slack_api.webhook_url("#alerts"))  # this machine: no warning
