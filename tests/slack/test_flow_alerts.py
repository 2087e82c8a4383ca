"""A failing flow announced through `notify("slack-webhook/alerts")`: one Block Kit card with
flow, run, state, error and duration, valid by the server's Block Kit rules and limits."""

from __future__ import annotations

import pytest

from core_blocks import flow, notify
from core_blocks.runtime.notify import RunSummary
from prefect_slack.block_kit import run_message, text_message
from prefect_slack.testing.block_kit_rules import block_errors


def test_a_failing_flow_posts_one_readable_alert(slack_api, slack_webhook):
    slack_webhook.save("alerts")

    @flow(name="nightly-export", on_failure=[notify("slack-webhook/alerts")])
    def nightly_export():
        raise RuntimeError("warehouse <prod> refused the load")

    with pytest.raises(RuntimeError):
        nightly_export()

    [message] = slack_api.messages
    header, body, facts, error, context = message["blocks"]
    assert header["text"]["text"] == "Flow 'nightly-export': Failed"
    assert "finished in state Failed" in body["text"]["text"]
    labels = [f["text"].split("\n")[0] for f in facts["fields"]]
    assert labels == ["*Flow*", "*Run*", "*State*", "*Duration*"]
    assert facts["fields"][0]["text"] == "*Flow*\nnightly-export"
    assert facts["fields"][1]["text"].startswith("*Run*\nnightly-export-")
    assert facts["fields"][2]["text"] == "*State*\n:x: Failed"
    assert facts["fields"][3]["text"].endswith(" s")
    assert error["text"]["text"] == ("*Error*\n```RuntimeError: warehouse &lt;prod&gt; refused "
                                     "the load```")
    assert "run id `" in context["elements"][0]["text"]
    assert message["text"].startswith("Flow 'nightly-export': Failed: ")


def summary(**changes) -> RunSummary:
    fields = {"kind": "Task", "name": "load", "flow_name": "nightly", "run_name": "load-1",
              "run_id": "0" * 32, "state": "Completed", "message": "", "duration": 4000.0,
              "error": "", "body": "done", "subject": "Task 'load': Completed"}
    return RunSummary(**{**fields, **changes})


def test_a_task_alert_names_its_flow_and_has_no_error_section():
    blocks = run_message(summary())["blocks"]

    assert [b["type"] for b in blocks] == ["header", "section", "section", "context"]
    assert [f["text"] for f in blocks[2]["fields"]] == [
        "*Task*\nload", "*Flow*\nnightly", "*Run*\nload-1",
        "*State*\n:white_check_mark: Completed", "*Duration*\n1 h 6 min"]


@pytest.mark.parametrize("message", [
    run_message(summary(subject="s" * 500, body="b" * 50_000, error="e" * 10_000,
                        run_name="r" * 3_000)),
    text_message("x" * 100_000, subject="y" * 1_000),
    text_message("<&>" * 5_000),
], ids=["huge run", "huge notification", "escaping grows the text"])
def test_messages_stay_within_slacks_limits(message, slack_api, slack_webhook):
    assert block_errors(message["blocks"]) == []
    assert len(message["text"]) <= 40_000

    slack_webhook.send_message(**message)
    assert slack_api.received("webhook")[0].status == 200


def test_a_cut_never_leaves_half_an_entity():
    from prefect_slack.block_kit import escape, fit

    text = escape("aa" + "<" * 10)  # "aa&lt;&lt;..."
    assert fit(text, 6) == "aa…"  # "aa&lt" would show a stray "&lt"
    assert fit(text, 7) == "aa&lt;…"
