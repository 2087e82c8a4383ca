"""Prefect 3's sync-or-async rule on prefect_slack: SlackWebhook.notify/send_message and the
message tasks give values in a sync flow and awaitables in an async one (local Slack API)."""

from __future__ import annotations

import asyncio

from core_blocks import flow, notify
from prefect_slack import SlackWebhook
from prefect_slack.messages import send_chat_message, send_incoming_webhook_message, upload_file


def test_async_flow_awaits_the_prefect_names(slack_api, slack_credentials, slack_webhook):
    slack_webhook.save("alerts")

    @flow
    async def nightly():
        hook = await SlackWebhook.load("alerts")
        await hook.notify("one", subject="etl")
        await hook.send_message(text="two")
        await send_incoming_webhook_message(hook, text="three")
        answer = await send_chat_message("#alerts", slack_credentials, text="four")
        shared = await upload_file("#alerts", slack_credentials, b"a,b\n", "r.csv")
        return answer["ok"], shared["ok"]

    assert asyncio.run(nightly()) == (True, True)
    assert [m["text"] for m in slack_api.messages][:4] == ["etl: one", "two", "three", "four"]


def test_sync_flow_gets_values_from_the_same_names(slack_api, slack_credentials,
                                                   slack_webhook):
    @flow
    def nightly():
        slack_webhook.notify("one")
        return (slack_webhook.send_message(text="two"),
                send_incoming_webhook_message(slack_webhook, text="three"),
                send_chat_message("#alerts", slack_credentials, text="four")["ok"])

    assert nightly() == ("ok", None, True)  # the webhook task returns None, as Prefect's
    assert [m["text"] for m in slack_api.messages] == ["one", "two", "three", "four"]


def test_flow_alert_of_an_async_flow_is_delivered(slack_api, slack_webhook):
    slack_webhook.save("alerts")

    @flow(on_failure=[notify("slack-webhook/alerts")])
    async def nightly():
        raise ValueError("boom")

    asyncio.run(nightly(return_state=True))

    [message] = slack_api.messages
    assert "boom" in message["text"]


def test_notify_in_async_code_with_sync_keyword(slack_api, slack_webhook):
    async def main():
        slack_webhook.notify("forced", _sync=True)
        await slack_webhook.notify.aio("aio")

    asyncio.run(main())
    assert [m["text"] for m in slack_api.messages] == ["forced", "aio"]
