"""Webhook: a generic HTTP notifier with a templated JSON body and secret URL and headers."""

from __future__ import annotations

import json
from string import Template
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from core_blocks.abstract import NotificationBlock
from core_blocks.errors import NotificationError
from core_blocks.fields import SecretDict
from core_blocks.http_logging import secret_urls_hidden


def fill_template(template: str, **values: str | None) -> str:
    """Substitute $names in a JSON template with JSON-escaped text; the result is valid JSON."""
    escaped = {k: json.dumps(v or "")[1:-1] for k, v in values.items()}
    return Template(template).safe_substitute(escaped)


class Webhook(NotificationBlock):
    """Send a notification as an HTTP request with a JSON body built from a template.

    The template fills `$body` and `$subject`; URL and headers are secret (they usually carry
    a token).

        >>> hook = Webhook(url="https://hooks.example/T0", body_template='{"text": "$body"}')
        >>> hook.render("disk full")
        '{"text": "disk full"}'
    """

    _block_type_name = "Webhook"

    url: SecretStr = Field(description="Endpoint URL; secret because it often embeds a token")
    method: Literal["POST", "PUT", "PATCH", "GET", "DELETE"] = Field(
        default="POST", description="HTTP method")
    headers: SecretDict = Field(default_factory=lambda: SecretDict({}),
                                description="Extra HTTP headers, e.g. Authorization; secret")
    body_template: str = Field(
        default='{"subject": "$subject", "body": "$body"}',
        description="JSON body with $body and $subject placeholders")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Request timeout in seconds")

    @field_validator("body_template")
    @classmethod
    def _template_is_json(cls, value: str) -> str:
        try:
            json.loads(fill_template(value, body="", subject=""))
        except json.JSONDecodeError as exc:
            raise ValueError(f"body_template is not JSON once filled ({exc.msg})") from None
        return value

    def render(self, body: str, subject: str | None = None) -> str:
        """The request body for this message."""
        return fill_template(self.body_template, body=body, subject=subject)

    def notify(self, body: str, subject: str | None = None) -> None:
        import httpx

        label = self.saved_name or "(unsaved)"
        headers = {"Content-Type": "application/json", **self.headers.get_secret_value()}
        try:
            with secret_urls_hidden():
                response = httpx.request(self.method, self.url.get_secret_value(),
                                         content=self.render(body, subject).encode(),
                                         headers=headers, timeout=self.timeout_seconds)
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
            # The exception text can quote the URL, which is secret: name the class only.
            raise NotificationError(
                f"Webhook {label!r} could not be reached ({type(exc).__name__}). Check its url "
                "and that the receiver is up."
            ) from None
        if response.status_code >= 400:
            raise NotificationError(
                f"Webhook {label!r} answered HTTP {response.status_code}. Check its url, "
                "headers and body_template."
            )
