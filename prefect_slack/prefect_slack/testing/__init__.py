"""Testing flows that talk to Slack without Slack: a strict local Slack API server
(`SlackApiServer`, in `server.py`) and its pytest fixtures (`slack_api`, in `plugin.py`,
loaded by pytest through core-blocks-slack's `pytest11` entry point).

Importing this package does not import pytest, so scripts (the demo) can run the server too.
"""

from prefect_slack.testing.server import SlackApiServer

__all__ = ["SlackApiServer"]
