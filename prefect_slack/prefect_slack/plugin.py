"""core-blocks-slack's plugin (entry point `slack`): the block types it adds.

Block modules are imported inside the hook, never Slack's SDK, so discovery stays fast.
"""

from core_blocks import hookimpl


@hookimpl
def register_block_types():
    # SlackCredentials and SlackWebhook arrive with their own issue.
    return []
