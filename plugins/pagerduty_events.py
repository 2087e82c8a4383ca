"""PagerDuty Events: trigger and resolve PagerDuty alerts through the Events API v2.

A drop-in plugin file: list its folder in CORE_BLOCKS_PLUGINS_DIRS and the block type
`pagerduty-events` appears (`blocks types`, `Block.load("pagerduty-events/oncall")`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from core_blocks import hookimpl
from core_blocks.abstract import NotificationBlock
from core_blocks.errors import NotificationError

SUMMARY_LIMIT = 1024  # PagerDuty refuses a longer payload.summary
DEDUP_KEY_LIMIT = 255  # and a longer dedup_key


class PagerDutyEvents(NotificationBlock):
    """Trigger (and resolve) a PagerDuty alert for an Events API v2 integration.

    The routing key is the integration key of an "Events API v2" integration on a PagerDuty
    service; it is secret. `notify` triggers an alert whose summary is the subject and body.

        >>> pd = PagerDutyEvents(routing_key="R0UT1NGKEY", severity="critical")
        >>> pd.event("disk full", subject="db-1")["payload"]["summary"]
        'db-1: disk full'
    """

    _block_type_name = "PagerDuty Events"
    # Set, not derived: slugify would split the brand into 'pager-duty-events'.
    _block_type_slug = "pagerduty-events"
    _documentation_url = "https://developer.pagerduty.com/docs/events-API-v2/trigger-events/"

    routing_key: SecretStr = Field(
        description="Integration key of the service's Events API v2 integration; secret")
    severity: Literal["critical", "error", "warning", "info"] = Field(
        default="error", description="Severity of the alerts this block triggers")
    source: str = Field(
        default="core-blocks",
        description="Where the problem is: a host name, service or pipeline name")
    component: str | None = Field(
        default=None, description="Part of the source that is affected, e.g. 'postgres'")
    group: str | None = Field(
        default=None, description="Logical group of components, e.g. 'nightly-etl'")
    class_type: str | None = Field(
        default=None, description="Class or type of the event, e.g. 'load failure' "
                                  "(sent as PagerDuty's 'class')")
    api_url: str = Field(
        default="https://events.pagerduty.com/v2/enqueue",
        description="Events API v2 endpoint; change it only for a proxy or a test server")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Request timeout in seconds")

    @field_validator("routing_key")
    @classmethod
    def _routing_key_not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("routing_key is empty; copy the integration key from PagerDuty")
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url_is_http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("api_url must start with https:// or http://")
        return value

    # -- building events ---------------------------------------------------------------

    def event(self, body: str, subject: str | None = None,
              dedup_key: str | None = None) -> dict[str, Any]:
        """The trigger event `notify` sends for this message (it includes the routing key)."""
        summary = f"{subject}: {body}" if subject else body
        if len(summary) > SUMMARY_LIMIT:
            summary = summary[:SUMMARY_LIMIT - 1] + "…"
        payload: dict[str, Any] = {
            "summary": summary, "source": self.source, "severity": self.severity,
        }
        optional = {"component": self.component, "group": self.group, "class": self.class_type}
        payload.update({k: v for k, v in optional.items() if v is not None})
        payload["custom_details"] = {"body": body}
        event: dict[str, Any] = {
            "routing_key": self.routing_key.get_secret_value(),
            "event_action": "trigger",
            "payload": payload,
        }
        if dedup_key is not None:
            event["dedup_key"] = self._checked_dedup_key(dedup_key)
        return event

    def _checked_dedup_key(self, dedup_key: str) -> str:
        if not dedup_key or len(dedup_key) > DEDUP_KEY_LIMIT:
            raise NotificationError(
                f"{self.notifier_label()} got a dedup_key of {len(dedup_key)} characters; "
                f"PagerDuty accepts 1 to {DEDUP_KEY_LIMIT}."
            )
        return dedup_key

    # -- sending -----------------------------------------------------------------------

    def notify(self, body: str, subject: str | None = None,
               dedup_key: str | None = None) -> None:
        """Trigger an alert; with dedup_key, a repeat updates the open alert instead.

        Raises NotificationError when PagerDuty cannot be reached or refuses the event.
        """
        self.trigger(body, subject, dedup_key=dedup_key)

    def trigger(self, body: str, subject: str | None = None,
                dedup_key: str | None = None) -> str | None:
        """notify(), returning the alert's dedup key (PagerDuty's, or the one given)."""
        answer = self._send(self.event(body, subject, dedup_key))
        return answer.get("dedup_key") or dedup_key

    def resolve(self, dedup_key: str) -> None:
        """Resolve the alert opened with this dedup key."""
        self._send({"routing_key": self.routing_key.get_secret_value(),
                    "event_action": "resolve",
                    "dedup_key": self._checked_dedup_key(dedup_key)})

    def _send(self, event: dict[str, Any]) -> dict[str, Any]:
        """POST one event; PagerDuty's JSON answer, or {} when it has none.

        An event with a dedup_key is idempotent (PagerDuty merges a repeat into the open
        alert), so it is retried after a 5xx or a dropped connection; one without is sent once.
        """
        answer = self.post_http("POST", self.api_url, json=event,
                                timeout=self.timeout_seconds,
                                idempotent="dedup_key" in event,
                                remedies=_REMEDIES, explain=self._reason)
        try:
            body = answer.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _reason(self, response: Any) -> str:
        """PagerDuty's own explanation ('message: errors'), routing key scrubbed."""
        try:
            answer = response.json()
        except ValueError:
            return ""
        if not isinstance(answer, dict):
            return ""
        parts = [str(answer.get("message") or "")]
        errors = answer.get("errors")
        if isinstance(errors, list):
            parts.append("; ".join(str(e) for e in errors))
        text = ": ".join(p for p in parts if p)
        key = self.routing_key.get_secret_value()
        if key:
            text = text.replace(key, "**********")
        return text


_REMEDIES = {
    "invalid_url": "set api_url to the Events API v2 endpoint",
    "unreachable": "check api_url and the network",
    401: "check its routing_key (an Events API v2 integration key) and api_url",
    403: "check its routing_key (an Events API v2 integration key) and api_url",
    404: "check its routing_key (an Events API v2 integration key) and api_url",
    429: "PagerDuty is rate limiting this integration, retry later",
    "5xx": "PagerDuty had a server error, retry later",
    "4xx": "check its routing_key, severity and api_url",
}


@hookimpl
def register_block_types():
    return [PagerDutyEvents]
