"""Webhook: a generic HTTP notifier with a templated JSON body and secret URL and headers."""

from __future__ import annotations

import json
from string import Template
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from core_blocks.abstract import NotificationBlock
from core_blocks.fields import SecretDict


def fill_template(template: str, **values: str | None) -> str:
    """Substitute $names in a JSON template with JSON-escaped text; the result is valid JSON."""
    escaped = {k: json.dumps(v or "")[1:-1] for k, v in values.items()}
    return Template(template).safe_substitute(escaped)


class Webhook(NotificationBlock):
    """Send a notification as an HTTP request with a JSON body built from a template.

    The template fills `$body` and `$subject`; URL and headers are secret (they usually carry
    a token). A POST or PATCH is sent once unless `idempotent` is set: the receiver may have
    acted on a request whose answer was lost.

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
    idempotent: bool | None = Field(
        default=None,
        description="Whether the receiver may get a message twice, so a 5xx or a dropped "
                    "connection is retried; empty: yes for GET, PUT and DELETE, no for POST "
                    "and PATCH")

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: SecretStr) -> SecretStr:
        from core_blocks.notify_http import http_url_problem

        problem = http_url_problem(value.get_secret_value())
        if problem:  # the URL itself is never quoted: it often embeds a token
            raise ValueError(f"must be an http:// or https:// URL, e.g. "
                             f"https://hooks.example.com/T0; this one {problem}")
        return value

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

    def is_idempotent(self) -> bool:
        """Whether sending a message twice is harmless: the field, else the method decides."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method in IDEMPOTENT_METHODS

    def notify(self, body: str, subject: str | None = None) -> None:
        """Send the rendered template; raise NotificationError if it is not delivered."""
        self.post_http(self.method, self.url,
                       content=self.render(body, subject).encode(),
                       headers={"Content-Type": "application/json",
                                **self.headers.get_secret_value()},
                       timeout=self.timeout_seconds, idempotent=self.is_idempotent(),
                       remedies=_REMEDIES)


# HTTP's own definition: repeating one of these has the effect of sending it once.
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})

_REMEDIES = {
    "4xx": "check its url, headers and body_template",
}
