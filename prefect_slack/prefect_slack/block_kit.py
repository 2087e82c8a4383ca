"""Slack messages as Block Kit: a notification (subject, body) and a run alert (flow, run,
state, error, duration), always within Slack's size limits (`prefect_slack.limits`).

    >>> message = text_message("disk <95%> full", subject="db-1")
    >>> [b["type"] for b in message["blocks"]], message["text"]
    (['header', 'section'], 'db-1: disk &lt;95%&gt; full')
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from prefect_slack import limits

if TYPE_CHECKING:
    from core_blocks.runtime.notify import RunSummary

_FALLBACK_TEXT = 3_000  # the notification preview; Slack shows the blocks in the channel
_BODY_SECTIONS = 10  # a long body spans sections up to this many, then is cut
_STATE_EMOJI = {"Completed": ":white_check_mark:", "Failed": ":x:", "TimedOut": ":hourglass:",
                "Crashed": ":boom:", "Cancelled": ":no_entry_sign:"}


def escape(text: str) -> str:
    """Text for a mrkdwn field: Slack reads &, < and > as markup (links, mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """text cut to limit characters with an ellipsis, never halfway through an &entity;."""
    if len(text) <= limit:
        return text
    return re.sub(r"&[a-z]{0,3}$", "", text[:limit - 1]) + "…"


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": fit(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": fit(text, limit) or " "}


def body_sections(body: str) -> list[dict[str, Any]]:
    """body (escaped) as sections of at most 3000 characters each, at most _BODY_SECTIONS."""
    text = escape(body) or " "
    size = limits.SECTION_TEXT
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    if len(chunks) > _BODY_SECTIONS:
        chunks = chunks[:_BODY_SECTIONS]
        chunks[-1] = fit(chunks[-1] + "…", size)
    return [{"type": "section", "text": mrkdwn(chunk, size)} for chunk in chunks]


def notification(body: str, subject: str | None = None) -> dict[str, Any]:
    """What SlackWebhook.notify() posts: the body as the message text, as is (Slack mrkdwn),
    as Prefect's SlackWebhook does; with a subject, text_message()'s Block Kit card."""
    if not subject:
        return {"text": fit(body, limits.MESSAGE_TEXT)}
    return text_message(body, subject)


def text_message(body: str, subject: str | None = None) -> dict[str, Any]:
    """A notification: the subject as a header, the body as sections; `text` for previews."""
    blocks = [{"type": "header", "text": plain(subject, limits.HEADER_TEXT)}] if subject else []
    blocks += body_sections(body)
    preview = f"{subject}: {body}" if subject else body
    return {"text": fit(escape(preview), _FALLBACK_TEXT), "blocks": blocks}


def run_message(run: RunSummary) -> dict[str, Any]:
    """A run alert: header, the notify() template's text, the run's facts, then its error."""
    emoji = _STATE_EMOJI.get(run.state, ":information_source:")
    facts = [f"*{run.kind}*\n{escape(run.flow_name if run.kind == 'Flow' else run.name)}",
             f"*Run*\n{escape(run.run_name)}",
             f"*State*\n{emoji} {escape(run.state)}",
             f"*Duration*\n{_duration(run.duration)}"]
    if run.kind != "Flow":
        facts.insert(1, f"*Flow*\n{escape(run.flow_name)}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"{run.subject}", limits.HEADER_TEXT)},
        *body_sections(run.body)[:3],
        {"type": "section",
         "fields": [mrkdwn(f, limits.SECTION_FIELD_TEXT) for f in facts[:limits.SECTION_FIELDS]]},
    ]
    if run.error:
        fence = "```"
        room = limits.SECTION_TEXT - len("*Error*\n") - 2 * len(fence)
        blocks.append({"type": "section", "text": mrkdwn(
            f"*Error*\n{fence}{fit(escape(run.error), room)}{fence}", limits.SECTION_TEXT)})
    blocks.append({"type": "context", "elements": [
        mrkdwn(f"run id `{escape(run.run_id)}` · sent by core-blocks", limits.SECTION_TEXT)]})
    return {"text": fit(escape(f"{run.subject}: {run.body}"), _FALLBACK_TEXT), "blocks": blocks}


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
