"""The local Slack API server is strict the way Slack is: tokens, content types, Block Kit,
pagination, the upload sequence. Raw HTTP here, so nothing of prefect_slack smooths it over."""

from __future__ import annotations

import json

import httpx
import pytest

from prefect_slack.testing.block_kit_rules import block_errors


def call(slack_api, method, *, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token or slack_api.token}", **kwargs.pop("headers",
                                                                                  {})}
    return httpx.post(slack_api.base_url + method, headers=headers, **kwargs)


@pytest.mark.parametrize("kwargs, error", [
    ({"token": "xoxb-wrong"}, "invalid_auth"),
    ({"headers": {"Authorization": ""}}, "not_authed"),
    ({"content": b"{}", "headers": {"Content-Type": "text/csv"}}, "invalid_post_type"),
    ({"content": b"{nope", "headers": {"Content-Type": "application/json"}}, "invalid_json"),
], ids=["invalid_auth", "not_authed", "invalid_post_type", "invalid_json"])
def test_requests_slack_would_refuse_are_refused(slack_api, kwargs, error):
    answer = call(slack_api, "auth.test", **kwargs)

    assert answer.status_code == 200  # Slack reports errors in the body
    assert answer.json() == {"ok": False, "error": error}


def test_a_token_in_the_form_body_is_accepted(slack_api):
    answer = httpx.post(slack_api.base_url + "chat.postMessage",
                        data={"token": slack_api.token, "channel": "alerts", "text": "hi",
                              "blocks": json.dumps([{"type": "divider"}])})

    assert answer.json()["ok"] is True
    assert slack_api.messages[0]["blocks"] == [{"type": "divider"}]


def test_json_without_charset_is_served_with_slacks_warning(slack_api):
    answer = call(slack_api, "chat.postMessage", content=b'{"channel": "alerts", "text": "x"}',
                  headers={"Content-Type": "application/json"})

    assert answer.json()["ok"] is True
    assert answer.json()["warning"] == "missing_charset"


def test_unknown_methods_are_unknown(slack_api):
    assert call(slack_api, "chat.nope", json={}).json() == {
        "ok": False, "error": "unknown_method", "req_method": "chat.nope"}


def test_conversations_list_pages_with_a_cursor_and_hides_private_channels(slack_api):
    slack_api.add_channel("secret", private=True, member=False)
    slack_api.add_channel("team", private=True)

    first = httpx.get(slack_api.base_url + "conversations.list",
                      params={"limit": 2, "types": "public_channel,private_channel"},
                      headers={"Authorization": f"Bearer {slack_api.token}"}).json()
    cursor = first["response_metadata"]["next_cursor"]
    second = httpx.get(slack_api.base_url + "conversations.list",
                       params={"limit": 2, "cursor": cursor,
                               "types": "public_channel,private_channel"},
                       headers={"Authorization": f"Bearer {slack_api.token}"}).json()

    names = [c["name"] for c in first["channels"] + second["channels"]]
    assert names == ["general", "alerts", "random", "team"]
    assert second["response_metadata"]["next_cursor"] == ""


def test_the_upload_sequence_is_enforced(slack_api):
    bad = call(slack_api, "files.getUploadURLExternal", data={"filename": "a.csv"}).json()
    assert bad["error"] == "invalid_arguments"

    issued = call(slack_api, "files.getUploadURLExternal",
                  data={"filename": "a.csv", "length": "3"}).json()
    files = json.dumps([{"id": issued["file_id"]}])
    early = call(slack_api, "files.completeUploadExternal", data={"files": files}).json()
    assert early["error"] == "file_not_found"  # nothing was uploaded yet

    assert httpx.post(issued["upload_url"], content=b"abcd").status_code == 400  # length
    assert httpx.post(issued["upload_url"], content=b"abc").text == "OK - 3"
    done = call(slack_api, "files.completeUploadExternal",
                data={"files": files, "channel_id": slack_api.channel("alerts").id}).json()
    assert done["ok"] is True and done["files"][0]["size"] == 3
    assert httpx.post(issued["upload_url"], content=b"abc").status_code == 404  # used up


@pytest.mark.parametrize("blocks, problem", [
    ([{"type": "divider"}] * 51, "[ERROR] must provide no more than 50 items "
                                 "[json-pointer:/blocks]"),
    ([{"type": "carousel"}], "[ERROR] unsupported type: 'carousel' [json-pointer:/blocks/0/type]"),
    ([{"type": "section"}], "[ERROR] must provide either text or fields "
                            "[json-pointer:/blocks/0]"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
     "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
     "[ERROR] must provide no more than 10 items [json-pointer:/blocks/0/fields]"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
     "[ERROR] must be one of plain_text [json-pointer:/blocks/0/text/type]"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}],
     "[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
     "[ERROR] must provide no more than 10 items [json-pointer:/blocks/0/elements]"),
    ([{"type": "image", "image_url": "https://x/y.png"}],
     "[ERROR] must provide a string [json-pointer:/blocks/0/alt_text]"),
    ([{"type": "divider", "block_id": "b" * 256}],
     "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/block_id]"),
], ids=["51-blocks", "unknown-type", "empty-section", "section-3001",
        "11-fields", "mrkdwn-header", "empty-text", "11-context-elements", "image-no-alt",
        "long-block-id"])
def test_block_kit_rules_report_as_slack_does(blocks, problem, slack_api):
    assert problem in block_errors(blocks)

    answer = call(slack_api, "chat.postMessage", json={"channel": "alerts", "blocks": blocks,
                                                       "text": "fallback"}).json()
    assert answer["error"] == "invalid_blocks"
    assert problem in answer["response_metadata"]["messages"]


@pytest.mark.parametrize("blocks", ["not json", {"type": "divider"}])
def test_blocks_that_are_not_a_list_are_invalid_blocks_format(blocks, slack_api):
    answer = call(slack_api, "chat.postMessage", data={
        "channel": "alerts", "text": "x",
        "blocks": blocks if isinstance(blocks, str) else json.dumps(blocks)}).json()

    assert answer["error"] == "invalid_blocks_format"
    assert block_errors({"type": "divider"}) == ["[ERROR] must be an array "
                                                 "[json-pointer:/blocks]"]


def test_valid_blocks_of_every_kind_pass():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h", "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "s", "verbatim": True},
         "fields": [{"type": "plain_text", "text": "f"}],
         "accessory": {"type": "button", "text": {"type": "plain_text", "text": "b"}}},
        {"type": "context", "elements": [{"type": "image", "image_url": "https://x/i.png",
                                          "alt_text": "i"}, {"type": "mrkdwn", "text": "c"}]},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text",
                                                                     "text": "go"}}]},
        {"type": "image", "image_url": "https://x/i.png", "alt_text": "chart",
         "title": {"type": "plain_text", "text": "t"}},
        {"type": "divider", "block_id": "end"},
        {"type": "markdown", "text": "**bold**"},
        {"type": "rich_text", "elements": []},
    ]
    assert block_errors(blocks) == []
