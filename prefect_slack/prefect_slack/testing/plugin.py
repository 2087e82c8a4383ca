"""pytest fixtures for testing flows that talk to Slack, against a strict local Slack API
server on 127.0.0.1 (`prefect_slack.testing.server`). Loaded by pytest through the `pytest11`
entry point of core-blocks-slack; nothing to configure.

    from prefect_slack import SlackCredentials
    from prefect_slack.messages import send_chat_message

    def test_my_flow_posts(slack_api):
        creds = SlackCredentials(token=slack_api.token, base_url=slack_api.base_url)
        send_chat_message("#alerts", creds, text="done")
        assert slack_api.messages[-1]["text"] == "done"

The server starts once per test session; `slack_api` gives each test a fresh state (a new
token, the channels #general, #alerts and #random, nothing received).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prefect_slack.testing.server import SlackApiServer

__all__ = ["slack_api", "slack_api_server"]


@pytest.fixture(scope="session")
def slack_api_server() -> Iterator[SlackApiServer]:
    """The session's Slack API server (state shared between tests; prefer `slack_api`)."""
    server = SlackApiServer()
    yield server
    server.close()


@pytest.fixture
def slack_api(slack_api_server: SlackApiServer) -> SlackApiServer:
    """The Slack API server with a fresh state: base_url, token, webhook_url(channel),
    requests and messages received, and knobs rate_limit_next, fail_next, drop_next."""
    slack_api_server.reset()
    return slack_api_server
