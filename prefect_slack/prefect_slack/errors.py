"""The errors prefect_slack raises; each names the block or channel and the fix, never the
token or the webhook URL. Slack's answers become these in `prefect_slack.api_errors`."""

from core_blocks.errors import CoreBlocksError


class SlackError(CoreBlocksError):
    """Slack refused a request, or could not be reached."""


class SlackAuthError(SlackError):
    """The token was refused or missing (invalid_auth, not_authed, token_revoked...)."""


class SlackChannelError(SlackError):
    """The channel does not exist, is archived, or the app is not in it."""


class SlackMessageError(SlackError, ValueError):
    """The message itself was refused: too long, no text, blocks Slack cannot read."""


class SlackRateLimitError(SlackError):
    """Slack kept answering 429 (ratelimited) after the retries."""


class SlackConnectionError(SlackError):
    """Slack's API did not answer: wrong base_url, network down."""

