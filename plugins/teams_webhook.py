"""Microsoft Teams Webhook: post a message to a Teams channel as an Adaptive Card.

A drop-in plugin file: list its folder in CORE_BLOCKS_PLUGINS_DIRS and the block type
`microsoft-teams-webhook` appears (`Block.load("microsoft-teams-webhook/data-team")`).
"""

from __future__ import annotations

import colorsys
import re
from typing import Any

from pydantic import Field, SecretStr, field_validator

from core_blocks import hookimpl
from core_blocks.abstract import NotificationBlock

_HEX_COLOR = re.compile(r"^#?([0-9A-Fa-f]{6})$")


class TeamsWebhook(NotificationBlock):
    """Post a message to a Microsoft Teams channel through a Workflows webhook URL.

    The URL comes from the Teams Workflows app ("Post to a channel when a webhook request is
    received") or a legacy incoming webhook; it carries its own signature, so it is secret.
    The message is an Adaptive Card: the subject in bold, then the body.

        >>> hook = TeamsWebhook(url="https://example.invalid/workflows/T0")
        >>> [b["text"] for b in hook.render("disk full", subject="db-1")
        ...  ["attachments"][0]["content"]["body"]]
        ['db-1', 'disk full']
    """

    _block_type_name = "Microsoft Teams Webhook"
    _documentation_url = (
        "https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/"
        "how-to/add-incoming-webhook"
    )

    url: SecretStr = Field(
        description="Workflows (or incoming) webhook URL of the channel; secret, it carries "
                    "its own signature")
    theme_color: str = Field(
        default="D70000",
        description="Hex colour of the subject line, e.g. 'D70000'; Adaptive Cards only have "
                    "named colours, so the nearest one is used (red, amber, green or blue)")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Request timeout in seconds")

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (copy it from the Teams Workflows app)")
        return value

    @field_validator("theme_color")
    @classmethod
    def _color_is_hex(cls, value: str) -> str:
        match = _HEX_COLOR.match(value)
        if not match:
            raise ValueError("theme_color must be 6 hex digits, e.g. 'D70000'")
        return match.group(1).upper()

    def render(self, body: str, subject: str | None = None) -> dict[str, Any]:
        """The JSON message for this body and subject: an Adaptive Card in a message."""
        blocks: list[dict[str, Any]] = []
        if subject:
            blocks.append({"type": "TextBlock", "text": subject, "weight": "Bolder",
                           "size": "Medium", "wrap": True,
                           "color": adaptive_color(self.theme_color)})
        blocks.append({"type": "TextBlock", "text": body, "wrap": True})
        return {
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": blocks,
                },
            }],
        }

    def notify(self, body: str, subject: str | None = None) -> None:
        """Post the message; raise NotificationError if Teams cannot be reached or refuses it.

        Sent once: Teams keeps no idempotency key, so a repeat after a 5xx or a dropped
        connection could show the message twice.
        """
        self.post_http("POST", self.url, json=self.render(body, subject),
                       timeout=self.timeout_seconds, idempotent=False, remedies=_REMEDIES)


def adaptive_color(hex_color: str) -> str:
    """The Adaptive Card colour nearest to a hex colour: 'D70000' -> 'Attention'."""
    r, g, b = (int(hex_color[i:i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    if saturation < 0.2 or not 0.1 < lightness < 0.9:
        return "Default"
    degrees = hue * 360
    if degrees < 20 or degrees >= 330:
        return "Attention"
    if degrees < 70:
        return "Warning"
    if degrees < 170:
        return "Good"
    return "Accent"


_TURNED_OFF = "its url is wrong or the workflow was turned off; copy the URL again"
_REMEDIES = {
    "invalid_url": "copy its url again from the Teams Workflows app",
    "unreachable": "check its url and the network",
    401: _TURNED_OFF, 403: _TURNED_OFF, 404: _TURNED_OFF,
    429: "Teams is throttling this webhook, retry later",
    "5xx": "Teams had a server error, retry later",
    "4xx": "check its url; Teams Workflows accept Adaptive Cards only",
}


@hookimpl
def register_block_types():
    return [TeamsWebhook]
