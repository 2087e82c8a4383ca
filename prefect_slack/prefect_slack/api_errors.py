"""Slack's error codes as one sentence each: what happened to which block or channel, and the
fix. Tables, not branches: add a code by adding a row.

Web API errors (`{"ok": false, "error": "channel_not_found"}`) become the exception classes of
`prefect_slack.errors`; incoming-webhook answers (plain text such as `invalid_payload`) are
read by `explain_webhook_answer` for `prefect_slack.webhook_posts`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from prefect_slack import limits
from prefect_slack.errors import (
    SlackAuthError,
    SlackChannelError,
    SlackConnectionError,
    SlackError,
    SlackMessageError,
    SlackRateLimitError,
)

if TYPE_CHECKING:
    from core_blocks.notify_http import HttpAnswer
    from prefect_slack.credentials import SlackCredentials

T = TypeVar("T")

_REISSUE = ("create a new token in the Slack app's OAuth & Permissions page and save it: "
            "blocks create {save_as} --overwrite")

# code -> (class, sentence). Fields: {who} the credentials block, {where} "channel '#x'"
# (or "its channel"), {method} the Web API method, {save_as} "slack-credentials/<name>".
WEB_API_ERRORS: dict[str, tuple[type[SlackError], str]] = {
    "invalid_auth": (SlackAuthError, "Slack refused the token of {who} (invalid_auth); "
                                     + _REISSUE + "."),
    "not_authed": (SlackAuthError, "{who} sent no token (not_authed); set its token."),
    "token_revoked": (SlackAuthError, "The token of {who} was revoked (token_revoked); "
                                      + _REISSUE + "."),
    "token_expired": (SlackAuthError, "The token of {who} expired (token_expired); "
                                      + _REISSUE + "."),
    "account_inactive": (SlackAuthError, "The token of {who} belongs to a deactivated user or "
                                         "app (account_inactive); " + _REISSUE + "."),
    "missing_scope": (SlackAuthError, "The token of {who} lacks a scope {method} needs "
                                      "(missing_scope); add it in the app's OAuth & Permissions "
                                      "page, reinstall the app and save the new token."),
    "channel_not_found": (SlackChannelError, "Slack found no {where} for {who} "
                                             "(channel_not_found); check the name or ID, and "
                                             "invite the app if the channel is private."),
    "not_in_channel": (SlackChannelError, "{who} is not a member of {where} (not_in_channel); "
                                          "invite the app there with /invite @app-name."),
    "is_archived": (SlackChannelError, "{where} is archived (is_archived); unarchive it or "
                                       "send to another channel."),
    "channel_is_archived": (SlackChannelError, "{where} is archived (channel_is_archived); "
                                               "unarchive it or send to another channel."),
    "ratelimited": (SlackRateLimitError, "Slack is rate limiting {method} for {who} "
                                         "(ratelimited) and asked to wait longer than the "
                                         "retries allow; send fewer messages or retry later."),
    "msg_too_long": (SlackMessageError, "The message to {where} is longer than Slack's "
                                        f"{limits.MESSAGE_TEXT:,} characters (msg_too_long); "
                                        "shorten it or send it with upload_file."),
    "no_text": (SlackMessageError, "The message to {where} has no text, blocks or attachments "
                                   "(no_text); give it text."),
    "invalid_blocks": (SlackMessageError, "Slack refused the blocks of the message to {where} "
                                          "(invalid_blocks{detail}); fix them against Block "
                                          "Kit's reference."),
    "invalid_blocks_format": (SlackMessageError, "The blocks of the message to {where} are not "
                                                 "a list of objects (invalid_blocks_format); "
                                                 "pass slack_blocks as a list of dicts."),
    "too_many_attachments": (SlackMessageError, "The message to {where} has more than "
                                                f"{limits.MESSAGE_ATTACHMENTS} attachments "
                                                "(too_many_attachments); send fewer."),
    "invalid_arguments": (SlackMessageError, "Slack refused the arguments of {method} for "
                                             "{where} (invalid_arguments{detail}); check them."),
}


def web_api_error(code: str, *, who: str, method: str, channel: str | None = None,
                  detail: str = "", name: str | None = None) -> SlackError:
    """The exception for a Web API error code; unknown codes name the method's error list."""
    where = f"channel {channel!r}" if channel else "its channel"
    cls, sentence = WEB_API_ERRORS.get(code, (SlackError, (
        "Slack answered {code} to {method} for {who}{on}; see "
        "https://api.slack.com/methods/{method}#errors for the fix.")))
    on = f" on {where}" if channel else ""
    text = sentence.format(who=who, where=where, method=method, code=code, on=on,
                           detail=f": {detail}" if detail else "",
                           save_as=f"slack-credentials/{name or 'NAME'}")
    return cls(text[0].upper() + text[1:])


def call_slack(call: Callable[[], T], credentials: SlackCredentials, method: str,
               channel: str | None = None) -> T:
    """call(), with slack_sdk's exceptions turned into SlackError that chains nothing.

    Chaining nothing matters: slack_sdk's exceptions hold the request and the response; a
    traceback printing them would show more than the one sentence needs.
    """
    from urllib.error import URLError

    from slack_sdk.errors import SlackApiError, SlackRequestError

    try:
        return call()
    except (SlackApiError, SlackRequestError, URLError, OSError) as exc:
        error = slack_error(exc, credentials, method, channel)
    raise error  # outside the except block: no __context__ either


async def acall_slack(call: Callable[[], Awaitable[T]], credentials: SlackCredentials,
                      method: str, channel: str | None = None) -> T:
    """call_slack() for an AsyncWebClient's call: `await call()`; aiohttp's errors too."""
    import asyncio

    from aiohttp import ClientError
    from slack_sdk.errors import SlackApiError, SlackRequestError

    try:
        return await call()
    except (SlackApiError, SlackRequestError, ClientError, asyncio.TimeoutError,
            OSError) as exc:
        error = slack_error(exc, credentials, method, channel)
    raise error


def slack_error(exc: BaseException, credentials: SlackCredentials, method: str,
                channel: str | None = None) -> SlackError:
    """The SlackError for what slack_sdk (or urllib, aiohttp under it) raised."""
    from slack_sdk.errors import SlackApiError, SlackRequestError

    who, base_url = credentials.label(), credentials.base_url
    if isinstance(exc, SlackApiError):
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        messages = (data.get("response_metadata") or {}).get("messages") or []
        return web_api_error(str(data.get("error") or f"HTTP {exc.response.status_code}"),
                             who=who, method=method, channel=channel,
                             detail="; ".join(map(str, messages))[:300],
                             name=credentials.saved_name)
    if isinstance(exc, SlackRequestError):
        return SlackError(f"Slack did not accept {method} from {who} (SlackRequestError); "
                          "check the file or message and send it again.")
    reason = getattr(exc, "reason", None) or type(exc).__name__
    if isinstance(reason, BaseException):
        reason = type(reason).__name__
    return SlackConnectionError(
        f"{who} could not reach Slack's API at {_host(base_url)} for {method} "
        f"({reason}); check its base_url and the network.")


def _host(url: str) -> str:
    from core_blocks.http_logging import redact_url

    return redact_url(url) if url else "its base_url"


# Incoming webhooks answer in plain text. code -> what it means, shown in the post's
# error next to the status; the fix comes from WEBHOOK_REMEDIES by status.
WEBHOOK_ANSWERS: dict[str, str] = {
    "invalid_payload": "invalid_payload: Slack could not read the message as JSON with text, "
                       "blocks or attachments",
    "no_text": "no_text: the message has no text",
    "invalid_blocks": "invalid_blocks: a block breaks Block Kit's shape or size limits",
    "too_many_attachments": "too_many_attachments: more than "
                            f"{limits.MESSAGE_ATTACHMENTS} attachments",
    "channel_is_archived": "channel_is_archived: the webhook's channel is archived",
    "channel_not_found": "channel_not_found: the webhook's channel was deleted",
    "action_prohibited": "action_prohibited: an admin restricted posting to that channel",
    "posting_to_general_channel_denied": "posting_to_general_channel_denied: only admins may "
                                         "post in that channel",
    "invalid_token": "invalid_token: the webhook was revoked",
    "no_service": "no_service: the webhook was removed or its URL is wrong",
    "no_team": "no_team: the webhook's workspace is gone",
    "team_disabled": "team_disabled: the webhook's workspace is disabled",
}

WEBHOOK_REMEDIES: dict[int | str, str] = {
    400: "fix the message (text, blocks, attachments) and send it again",
    403: "the webhook may no longer post there; ask a Slack admin or create a new webhook "
         "and save it as url",
    404: "create a new incoming webhook in the Slack app and save it as url",
    410: "unarchive the channel, or create a webhook for another channel and save it as url",
    429: "Slack allows about one message per second per webhook; send fewer",
    "5xx": "Slack had a server error; the message was not sent again, so it cannot arrive "
           "twice; retry later",
    "4xx": "check the webhook url and the message",
    "unreachable": "check its url and the network (the message was not sent again after a "
                   "dropped connection, so it cannot arrive twice)",
}


def explain_webhook_answer(answer: HttpAnswer) -> str:
    """Slack's plain-text webhook answer, with what it means when the code is known."""
    code = answer.text.strip()
    return WEBHOOK_ANSWERS.get(code, code)
