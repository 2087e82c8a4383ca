"""The Slack Web API calls the tasks make, each taking a slack_sdk client: nothing here knows
about blocks, tasks or error messages (see messages.py and api_errors.py)."""

from __future__ import annotations

import re
from typing import Any

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")  # public, private and direct channel IDs


def message_kwargs(channel: str, text: str | None, attachments: list | None,
                   blocks: list | None, thread_ts: str | None) -> dict[str, Any]:
    """chat.postMessage's keywords as Prefect's send_chat_message passes them, None ones too
    (slack_sdk leaves those out of the request); thread_ts only when given."""
    kwargs = {"channel": channel, "text": text, "blocks": blocks, "attachments": attachments}
    return {**kwargs, "thread_ts": thread_ts} if thread_ts is not None else kwargs


def post_message(client: Any, channel: str, text: str | None, attachments: list | None,
                 blocks: list | None, thread_ts: str | None) -> dict:
    """chat.postMessage with a WebClient; Slack's answer (ok, channel, ts, message)."""
    return client.chat_postMessage(
        **message_kwargs(channel, text, attachments, blocks, thread_ts)).data


async def apost_message(client: Any, channel: str, text: str | None,
                        attachments: list | None, blocks: list | None,
                        thread_ts: str | None) -> dict:
    """post_message() with an AsyncWebClient."""
    answer = await client.chat_postMessage(
        **message_kwargs(channel, text, attachments, blocks, thread_ts))
    return answer.data


def channel_id(client: Any, channel: str) -> str | None:
    """The ID of a channel given by ID, "name" or "#name"; None when no channel has it.

    files.completeUploadExternal takes IDs only, so a name is looked up in conversations.list
    (public and private channels the token can see, page by page).
    """
    if _CHANNEL_ID.match(channel):
        return channel
    name = channel.lstrip("#")
    cursor = None
    while True:
        page = client.conversations_list(types="public_channel,private_channel", limit=200,
                                         exclude_archived=False, cursor=cursor).data
        for found in page.get("channels", []):
            if found.get("name") == name:
                return found["id"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def upload(client: Any, channel: str, content: bytes, filename: str,
           title: str | None) -> dict:
    """files_upload_v2 (getUploadURLExternal, the upload, completeUploadExternal)."""
    return client.files_upload_v2(channel=channel, content=content, filename=filename,
                                  title=title or filename).data
