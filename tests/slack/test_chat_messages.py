"""send_chat_message against the local Slack API: what arrives, and each Slack error as one
sentence naming the channel and the fix."""

from __future__ import annotations

import pytest

from prefect_slack import (
    SlackAuthError,
    SlackChannelError,
    SlackCredentials,
    SlackMessageError,
    SlackRateLimitError,
)
from prefect_slack.messages import send_chat_message

# slack_sdk warns when a message has no top-level text; these tests leave it out on purpose.
no_text_warning = pytest.mark.filterwarnings("ignore:The top-level `text`",
                                             "ignore:Additionally, the attachment-level")

HEADER = [{"type": "header", "text": {"type": "plain_text", "text": "Nightly export"}}]


def test_text_arrives_in_the_channel_and_slacks_answer_is_returned(slack_api,
                                                                   slack_credentials):
    answer = send_chat_message("#alerts", slack_credentials, text="export done")

    assert answer["ok"] is True
    assert answer["channel"] == slack_api.channel("#alerts").id
    assert answer["message"]["text"] == "export done"
    [message] = slack_api.messages
    assert (message["channel_name"], message["text"], message["ts"]) == (
        "alerts", "export done", answer["ts"])
    [request] = slack_api.received("chat.postMessage")
    assert request.headers["authorization"] == f"Bearer {slack_api.token}"
    assert request.headers["content-type"].startswith("application/json")


@no_text_warning
def test_blocks_attachments_and_a_thread_reply(slack_api, slack_credentials):
    parent = send_chat_message("general", slack_credentials, text="run started")
    attachments = [{"color": "#36a64f", "text": "2 rows"}]

    reply = send_chat_message(parent["channel"], slack_credentials, slack_blocks=HEADER,
                              attachments=attachments, thread_ts=parent["ts"])

    message = slack_api.messages[-1]
    assert message["blocks"] == HEADER and message["attachments"] == attachments
    assert message["thread_ts"] == parent["ts"] == reply["message"]["thread_ts"]
    assert "text" not in slack_api.received("chat.postMessage")[-1].params


def test_a_429_is_retried_after_retry_after_and_posts_once(slack_api, slack_credentials):
    slack_api.rate_limit_next(retry_after=0, on="chat.postMessage")

    send_chat_message("#alerts", slack_credentials, text="after a 429")

    assert [r.status for r in slack_api.received("chat.postMessage")] == [429, 200]
    assert len(slack_api.messages) == 1


def test_a_retry_after_above_the_cap_is_not_waited_for(slack_api, slack_credentials):
    slack_api.rate_limit_next(retry_after=600)

    with pytest.raises(SlackRateLimitError, match=r"rate limiting chat.postMessage .*"
                                                  r"\(ratelimited\).*retry later"):
        send_chat_message("#alerts", slack_credentials, text="x")
    assert len(slack_api.received("chat.postMessage")) == 1


@pytest.mark.parametrize("channel, kwargs, error, expected", [
    ("#nowhere", {"text": "x"}, SlackChannelError,
     "Slack found no channel '#nowhere' for SlackCredentials 'bot' (channel_not_found); "
     "check the name or ID, and invite the app if the channel is private."),
    ("#random", {"text": "x"}, SlackChannelError,
     "SlackCredentials 'bot' is not a member of channel '#random' (not_in_channel); invite "
     "the app there with /invite @app-name."),
    ("#old", {"text": "x"}, SlackChannelError,
     "Channel '#old' is archived (is_archived); unarchive it or send to another channel."),
    ("#alerts", {"text": "x" * 40_001}, SlackMessageError,
     "The message to channel '#alerts' is longer than Slack's 40,000 characters "
     "(msg_too_long); shorten it or send it with upload_file."),
    ("#alerts", {}, SlackMessageError,
     "The message to channel '#alerts' has no text, blocks or attachments (no_text); give "
     "it text."),
    ("#alerts", {"slack_blocks": [{"type": "header", "text": {"type": "plain_text",
                                                                "text": "h" * 151}}]},
     SlackMessageError,
     "Slack refused the blocks of the message to channel '#alerts' (invalid_blocks: [ERROR] "
     "must be less than 151 characters [json-pointer:/blocks/0/text/text]); fix them "
     "against Block Kit's reference."),
    ("#alerts", {"text": "x", "attachments": [{"text": "a"}] * 101}, SlackMessageError,
     "The message to channel '#alerts' has more than 100 attachments (too_many_attachments);"
     " send fewer."),
], ids=["channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text",
        "invalid_blocks", "too_many_attachments"])
@no_text_warning
def test_slack_errors_become_one_sentence(slack_api, slack_credentials, channel, kwargs,
                                          error, expected):
    slack_api.add_channel("old", archived=True)
    slack_credentials.save("bot")

    with pytest.raises(error) as caught:
        send_chat_message(channel, SlackCredentials.load("bot"), **kwargs)

    assert str(caught.value) == expected
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert slack_api.messages == []


@pytest.mark.parametrize("token, expected", [
    ("xoxb-not-the-right-one", "Slack refused the token of SlackCredentials 'bot' "
     "(invalid_auth); create a new token in the Slack app's OAuth & Permissions page and save "
     "it: blocks create slack-credentials/bot --overwrite."),
    ("", "SlackCredentials 'bot' sent no token (not_authed); set its token."),
], ids=["invalid_auth", "not_authed"])
def test_a_refused_token_names_the_block_and_how_to_replace_it(slack_api, token, expected):
    SlackCredentials(token=token, base_url=slack_api.base_url).save("bot")

    with pytest.raises(SlackAuthError) as caught:
        send_chat_message("#alerts", SlackCredentials.load("bot"), text="x")

    assert str(caught.value) == expected


def test_an_unknown_slack_error_points_at_the_methods_error_list(slack_api, slack_credentials):
    from prefect_slack.api_errors import web_api_error

    error = web_api_error("restricted_action", who="SlackCredentials 'bot'",
                          method="chat.postMessage", channel="#alerts")

    assert str(error) == ("Slack answered restricted_action to chat.postMessage for "
                          "SlackCredentials 'bot' on channel '#alerts'; see "
                          "https://api.slack.com/methods/chat.postMessage#errors for the fix.")
