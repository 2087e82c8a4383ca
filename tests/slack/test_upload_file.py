"""upload_file: the files.getUploadURLExternal / upload / files.completeUploadExternal
sequence against the local Slack API, from a path or bytes, to a channel by name or ID."""

from __future__ import annotations

import pytest

from prefect_slack import SlackChannelError
from prefect_slack.messages import upload_file

CSV = b"id,amount\n1,42\n2,7\n"


def test_a_local_file_is_shared_in_a_channel_given_by_name(slack_api, slack_credentials,
                                                           tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(CSV)

    answer = upload_file("#alerts", slack_credentials, path, "export.csv",
                         title="Nightly export")

    assert answer["ok"] is True
    file_id = answer["file"]["id"]
    assert slack_api.files[file_id]["content"] == CSV
    assert answer["file"]["title"] == "Nightly export"
    assert answer["file"]["channels"] == [slack_api.channel("alerts").id]
    assert [r.kind for r in slack_api.requests] == [
        "conversations.list", "files.getUploadURLExternal", "upload",
        "files.completeUploadExternal"]


def test_bytes_go_to_a_channel_given_by_id_without_a_lookup(slack_api, slack_credentials):
    channel_id = slack_api.channel("general").id

    answer = upload_file(channel_id, slack_credentials, CSV, "rows.csv")

    assert slack_api.files[answer["file"]["id"]]["name"] == "rows.csv"
    assert slack_api.received("conversations.list") == []


def test_a_channel_on_a_later_page_of_conversations_list_is_found(slack_api,
                                                                  slack_credentials):
    for i in range(205):
        slack_api.add_channel(f"team-{i:03d}")

    upload_file("#team-204", slack_credentials, CSV, "rows.csv")

    assert len(slack_api.received("conversations.list")) == 2


def test_an_unknown_channel_is_named_in_the_error(slack_api, slack_credentials):
    with pytest.raises(SlackChannelError, match="Slack found no channel '#nowhere'"):
        upload_file("#nowhere", slack_credentials, CSV, "rows.csv")
    assert slack_api.files == {}


def test_a_channel_the_app_is_not_in_is_refused(slack_api, slack_credentials):
    with pytest.raises(SlackChannelError, match="not a member of channel '#random'"):
        upload_file("#random", slack_credentials, CSV, "rows.csv")
