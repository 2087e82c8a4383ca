"""core-blocks-slack: Slack credentials and incoming webhooks as blocks, Slack tasks, and a
strict local Slack API server for tests.

The block types load on first use, so `import prefect_slack` stays cheap; slack_sdk itself is
only imported by the methods that call Slack. The tasks live in `prefect_slack.messages`, the
test server's pytest fixture `slack_api` in `prefect_slack.testing`.

    from prefect_slack import SlackCredentials, SlackWebhook
    from prefect_slack.messages import send_chat_message
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {  # public name -> module defining it
    "SlackCredentials": "prefect_slack.credentials",
    "SlackWebhook": "prefect_slack.credentials",
    "SlackError": "prefect_slack.errors",
    "SlackAuthError": "prefect_slack.errors",
    "SlackChannelError": "prefect_slack.errors",
    "SlackConnectionError": "prefect_slack.errors",
    "SlackMessageError": "prefect_slack.errors",
    "SlackRateLimitError": "prefect_slack.errors",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers (tests/packaging)
    from prefect_slack.credentials import SlackCredentials, SlackWebhook
    from prefect_slack.errors import (
        SlackAuthError,
        SlackChannelError,
        SlackConnectionError,
        SlackError,
        SlackMessageError,
        SlackRateLimitError,
    )
