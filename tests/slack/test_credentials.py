"""SlackCredentials: the clients it builds (sync and async) with capped, bounded retries, and
its registration as a block type."""

from __future__ import annotations

import asyncio
import time

import pytest

from core_blocks import Block
from core_blocks.registry import get_registry
from prefect_slack import SlackConnectionError, SlackCredentials
from prefect_slack.messages import send_chat_message
from prefect_slack.retry import RETRY_AFTER_CAP_SECONDS, capped_wait
from tests.http_receiver import closed_port_url


def test_sync_client_talks_to_the_base_url_with_the_token(slack_api, slack_credentials):
    answer = slack_credentials.get_sync_client().auth_test()

    assert answer["ok"] is True and answer["bot_id"]
    [request] = slack_api.received("auth.test")
    assert request.headers["authorization"] == f"Bearer {slack_api.token}"


def test_async_client_talks_to_the_base_url_with_the_token(slack_api, slack_credentials):
    async def post():
        client = slack_credentials.get_client()
        return await client.chat_postMessage(channel="#alerts", text="from async")

    answer = asyncio.run(post())

    assert answer["ok"] is True
    assert slack_api.messages[0]["text"] == "from async"


def test_async_client_retries_a_429(slack_api, slack_credentials):
    slack_api.rate_limit_next(retry_after=0)

    async def post():
        return await slack_credentials.get_client().chat_postMessage(channel="#alerts",
                                                                     text="x")

    asyncio.run(post())
    assert [r.status for r in slack_api.received("chat.postMessage")] == [429, 200]


def test_a_base_url_without_trailing_slash_still_works(slack_api):
    creds = SlackCredentials(token=slack_api.token, base_url=slack_api.base_url.rstrip("/"))

    assert creds.get_sync_client().auth_test()["ok"] is True


def test_a_dropped_connection_is_retried_a_bounded_number_of_times(slack_api,
                                                                   slack_credentials):
    slack_api.drop_next(times=1)
    send_chat_message("#alerts", slack_credentials, text="second try")
    assert len(slack_api.received("chat.postMessage")) == 2

    slack_api.reset()
    slack_api.drop_next(times=10)
    creds = SlackCredentials(token=slack_api.token, base_url=slack_api.base_url)
    with pytest.raises(SlackConnectionError, match=r"could not reach Slack's API at "
                                                   r"http://127\.0\.0\.1:\d+/… for "
                                                   r"chat\.postMessage"):
        send_chat_message("#alerts", creds, text="x")
    assert len(slack_api.received("chat.postMessage")) == 3  # one send, two retries


def test_an_unreachable_base_url_is_a_clear_error(slack_api):
    creds = SlackCredentials(token="xoxb-1-2", base_url=closed_port_url())
    started = time.perf_counter()

    with pytest.raises(SlackConnectionError, match="check its base_url and the network"):
        send_chat_message("#alerts", creds, text="x")
    assert time.perf_counter() - started < 5  # two retries with short backoff, not minutes


@pytest.mark.parametrize("header, expected", [
    ({"Retry-After": ["3"]}, (3.0, 3.25)),
    ({"retry-after": ["0"]}, (0.0, 0.25)),
    ({}, (1.0, 1.25)),
    ({"Retry-After": [str(int(RETRY_AFTER_CAP_SECONDS) + 1)]}, None),
])
def test_capped_wait_honours_retry_after_up_to_the_cap(header, expected):
    class Response:
        headers = header

    wait = capped_wait(Response())
    if expected is None:
        assert wait is None
    else:
        assert expected[0] <= wait <= expected[1]


def test_both_block_types_are_registered_and_round_trip(slack_api, slack_credentials,
                                                        slack_webhook):
    plugin = get_registry().plugins["slack"]
    assert plugin.error is None
    assert set(plugin.block_types) == {"slack-credentials", "slack-webhook"}
    slack_credentials.save("bot")
    slack_webhook.save("alerts")

    assert Block.load("slack-credentials/bot").token.get_secret_value() == slack_api.token
    assert Block.load("slack-webhook/alerts").url == slack_webhook.url
    assert SlackCredentials.schema()["secret_fields"] == ["token"]
    assert all(p.get("description") for p in SlackCredentials.schema()["properties"].values())
