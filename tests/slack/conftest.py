"""Fixtures for the core-blocks-slack tests, composed on `slack_api` (the strict local Slack
API server that prefect_slack ships as a pytest plugin)."""

from __future__ import annotations

import pytest


@pytest.fixture
def slack_credentials(slack_api):
    """SlackCredentials holding the server's token, pointed at it."""
    from prefect_slack import SlackCredentials

    return SlackCredentials(token=slack_api.token, base_url=slack_api.base_url)


@pytest.fixture
def slack_webhook(slack_api):
    """A SlackWebhook posting to #alerts on the server."""
    from prefect_slack import SlackWebhook

    return SlackWebhook(url=slack_api.webhook_url("#alerts"))
