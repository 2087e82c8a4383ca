"""core-blocks-slack's plugin (entry point `slack`): its block types.

Imports happen inside the hook, and the block modules import slack_sdk only inside the methods
that call Slack, so discovery (`blocks types`) never pays for slack_sdk.
"""

from core_blocks import hookimpl


@hookimpl
def register_block_types():
    from prefect_slack.credentials import SlackCredentials, SlackWebhook

    return [SlackCredentials, SlackWebhook]
