"""The Slack token and the webhook URL never reach logs (every logger at DEBUG, slack_sdk's
and urllib3's included), errors (with their chained exceptions), run history or CLI output."""

from __future__ import annotations

import json
import logging
import subprocess
from urllib.parse import urlsplit

import pytest

from core_blocks import flow, notify, task
from core_blocks.runtime import history
from prefect_slack import SlackChannelError, SlackCredentials, SlackWebhook
from prefect_slack.log_masking import MASK, mask
from prefect_slack.messages import send_chat_message, upload_file
from tests.helpers import BLOCKS


@pytest.fixture
def secrets_in_play(slack_api, canary):
    """A canary token the server accepts and a webhook URL, both saved as blocks."""
    slack_api.token = f"xoxb-{canary}"
    url = slack_api.webhook_url("#alerts")
    SlackCredentials(token=slack_api.token, base_url=slack_api.base_url).save("bot")
    SlackWebhook(url=url).save("alerts")
    secret_path = urlsplit(url).path.rsplit("/", 1)[-1]
    return [slack_api.token, canary, url, urlsplit(url).path, secret_path]


def leaks(secrets: list[str], text: str) -> list[str]:
    return [s for s in secrets if s in text]


def chain(exc: BaseException | None) -> list[BaseException]:
    found = []
    while exc is not None and exc not in found:
        found.append(exc)
        exc = exc.__cause__ or exc.__context__
    return found


def blocks_cli(*args: str) -> str:
    result = subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_debug_logs_never_hold_the_token_or_webhook_url(slack_api, secrets_in_play, caplog):
    caplog.set_level(logging.DEBUG)
    creds = SlackCredentials.load("bot")
    slack_api.rate_limit_next(retry_after=0)  # slack_sdk logs the retry with the request URL

    send_chat_message("#alerts", creds, text="hello")
    upload_file("#alerts", creds, b"a,b\n", "a.csv")
    # slack_sdk blanks the Authorization header itself; a token that reaches its log some
    # other way (a response echoing it, a param) is masked by our filter.
    logging.getLogger("slack_sdk.web.base_client").debug(
        "body_params: %s", {"token": creds.token.get_secret_value()})
    SlackWebhook.load("alerts").notify("disk full", subject="db-1")
    with pytest.raises(SlackChannelError):
        send_chat_message("#nowhere", creds, text="x")

    assert any(r.name.startswith("slack_sdk") for r in caplog.records)  # it did log
    assert f"body_params: {{'token': '{MASK}'}}" in caplog.text
    for record in caplog.records:
        assert not leaks(secrets_in_play, record.getMessage() + repr(record.args)), record.name


@pytest.mark.parametrize("break_it", ["5xx", "drop", "revoked", "invalid_payload"])
def test_webhook_errors_never_hold_the_url(slack_api, secrets_in_play, break_it):
    hook = SlackWebhook.load("alerts")
    if break_it == "5xx":
        slack_api.fail_next(500)
    elif break_it == "drop":
        slack_api.drop_next()
    elif break_it == "revoked":
        slack_api._webhooks.clear()
    with pytest.raises(Exception) as caught:
        hook.send_message() if break_it == "invalid_payload" else hook.notify("x")

    for exc in chain(caught.value):
        assert not leaks(secrets_in_play, str(exc) + repr(exc) + repr(exc.args))


@pytest.mark.parametrize("break_it", ["invalid_auth", "drop", "channel_not_found"])
def test_web_api_errors_never_hold_the_token(slack_api, secrets_in_play, break_it):
    creds = SlackCredentials.load("bot")
    if break_it == "invalid_auth":
        slack_api.token = "xoxb-rotated"
    elif break_it == "drop":
        slack_api.drop_next(times=3)
    with pytest.raises(Exception) as caught:
        send_chat_message("#nowhere" if break_it == "channel_not_found" else "#alerts", creds,
                          text="x")

    assert chain(caught.value) == [caught.value]
    assert not leaks(secrets_in_play, str(caught.value) + repr(caught.value))


def test_run_history_and_cli_never_show_the_token_or_webhook_url(slack_api, secrets_in_play,
                                                                 block_home):
    @task
    def post(creds: SlackCredentials, hook: SlackWebhook) -> dict:
        return send_chat_message("#alerts", creds, text="from a task")

    @flow(name="nightly", on_failure=[notify("slack-webhook/alerts")])
    def nightly(creds: SlackCredentials, hook: SlackWebhook):
        post(creds, hook)
        raise RuntimeError(f"failed with {creds.token} and {hook.url}")

    with pytest.raises(RuntimeError):
        nightly(SlackCredentials.load("bot"), SlackWebhook.load("alerts"))
    history.flush()
    assert len(slack_api.messages) == 2  # the task's message, then the alert

    shown = blocks_cli("runs", "ls", "--json")
    for run in json.loads(shown):
        shown += blocks_cli("runs", "show", run["id"], "--json")
        shown += blocks_cli("runs", "show", run["id"])
    for args in (["ls", "--json"], ["inspect", "slack-credentials/bot"],
                 ["inspect", "slack-webhook/alerts", "--json"], ["types"],
                 ["schema", "slack-webhook"]):
        shown += blocks_cli(*args)
    assert not leaks(secrets_in_play, shown)
    for path in block_home.glob("blocks.db*"):
        assert not leaks(secrets_in_play, path.read_bytes().decode("latin-1")), path
    alert = json.dumps(slack_api.messages[-1])
    assert not leaks(secrets_in_play, alert)  # the alert itself quotes the masked error


@pytest.mark.parametrize("text, expected", [
    ("headers: {'Authorization': 'Bearer xoxb-123-456-abcDEF'}",
     f"headers: {{'Authorization': 'Bearer {MASK}'}}"),
    ("body_params: {'token': 'xoxp-1-2-3'}", f"body_params: {{'token': '{MASK}'}}"),
    ("status: 200, body: {'ok': True}", "status: 200, body: {'ok': True}"),
], ids=["header", "param", "plain"])
def test_mask_hides_slack_tokens_only(text, expected):
    assert mask(text) == expected
