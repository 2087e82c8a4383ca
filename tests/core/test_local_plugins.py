"""The repo's plugins/ folder: drop-in block types found through CORE_BLOCKS_PLUGINS_DIRS.

Plugin files load as modules `core_blocks_plugins.<stem>`, so the classes come from the
registry here, never from a normal import.
"""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core_blocks import Block
from core_blocks.errors import BlockValidationError, NotificationError
from core_blocks.registry import get_registry
from core_blocks.testing import reset_state
from core_blocks.testing.contracts import NotifierContract
from tests.http_receiver import closed_port_url

REPO = Path(__file__).resolve().parents[2]
PLUGINS_DIR = REPO / "plugins"
PAGERDUTY = "pagerduty-events"
TEAMS = "microsoft-teams-webhook"


@pytest.fixture
def plugin_registry(monkeypatch):
    """The registry with the repo's plugins/ folder listed in CORE_BLOCKS_PLUGINS_DIRS."""
    monkeypatch.setenv("CORE_BLOCKS_PLUGINS_DIRS", str(PLUGINS_DIR))
    reset_state()
    return get_registry()


@pytest.fixture
def pagerduty_type(plugin_registry):
    return plugin_registry.block_type(PAGERDUTY)


@pytest.fixture
def teams_type(plugin_registry):
    return plugin_registry.block_type(TEAMS)


@pytest.fixture
def pagerduty_api(http_receiver):
    """The local receiver answering like PagerDuty: HTTP 202 and a dedup key."""
    http_receiver.status = 202
    http_receiver.body = (b'{"status": "success", "message": "Event processed", '
                          b'"dedup_key": "pd-dedup-1"}')
    return http_receiver


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60)


# -- discovery -------------------------------------------------------------------------


def test_listed_folder_provides_both_block_types(plugin_registry):
    for slug, stem in ((PAGERDUTY, "pagerduty_events"), (TEAMS, "teams_webhook")):
        cls = plugin_registry.block_type(slug)
        assert cls._block_type_slug == slug
        assert cls.__module__ == f"core_blocks_plugins.{stem}"
        info = plugin_registry.plugin_of(slug)
        assert info.name == f"file:{stem}"
        assert info.source == str(PLUGINS_DIR / f"{stem}.py")
        assert info.error is None
    assert plugin_registry.block_type(PAGERDUTY)._block_type_name == "PagerDuty Events"
    assert plugin_registry.block_type(TEAMS)._block_type_name == "Microsoft Teams Webhook"


def test_unlisted_folder_provides_nothing(block_home):
    assert os.environ["CORE_BLOCKS_PLUGINS_DIRS"] == ""
    registry = get_registry()
    assert PAGERDUTY not in registry.block_types
    assert TEAMS not in registry.block_types
    assert not [name for name in registry.plugins if name.startswith("file:")]


@pytest.mark.parametrize("plugins_dirs", [None, ""], ids=["unset", "empty"])
def test_a_fresh_process_does_not_load_plugins_from_the_current_directory(plugins_dirs):
    env = dict(os.environ)
    env.pop("CORE_BLOCKS_PLUGINS_DIRS")
    if plugins_dirs is not None:
        env["CORE_BLOCKS_PLUGINS_DIRS"] = plugins_dirs
    probe = (
        "from core_blocks.registry import get_registry\n"
        "from core_blocks.errors import BlockTypeNotFound\n"
        f"for slug in ({PAGERDUTY!r}, {TEAMS!r}):\n"
        "    try:\n"
        "        get_registry().block_type(slug)\n"
        "        print('found', slug)\n"
        "    except BlockTypeNotFound:\n"
        "        print('missing', slug)\n"
    )
    out = _run(probe, env)  # cwd is the repo root, which holds plugins/
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == [f"missing {PAGERDUTY}", f"missing {TEAMS}"]


def test_a_fresh_process_finds_them_when_listed():
    env = {**os.environ, "CORE_BLOCKS_PLUGINS_DIRS": str(PLUGINS_DIR)}
    probe = (
        "from core_blocks.registry import get_registry\n"
        f"print(get_registry().block_type({PAGERDUTY!r}).__name__,"
        f" get_registry().block_type({TEAMS!r}).__name__)"
    )
    out = _run(probe, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["PagerDutyEvents", "TeamsWebhook"]


def test_every_field_is_described(pagerduty_type, teams_type):
    for cls in (pagerduty_type, teams_type):
        properties = cls.schema()["properties"]
        assert all(prop.get("description") for prop in properties.values()), cls
    assert pagerduty_type.schema()["secret_fields"] == ["routing_key"]
    assert teams_type.schema()["secret_fields"] == ["url"]


def test_docstring_examples_run(pagerduty_type, teams_type):
    for cls in (pagerduty_type, teams_type):
        result = doctest.testmod(sys.modules[cls.__module__])
        assert result.attempted and not result.failed, cls


# -- the notifier contract -------------------------------------------------------------


class TestPagerDutyEvents(NotifierContract):
    @pytest.fixture
    def received(self, pagerduty_api):
        return pagerduty_api.requests

    @pytest.fixture
    def notifier(self, pagerduty_type, pagerduty_api):
        return pagerduty_type(routing_key="R0UTINGKEY0123456789abcdef012345",
                              api_url=pagerduty_api.url + "/v2/enqueue")

    @pytest.fixture
    def unreachable_notifier(self, pagerduty_type):
        return pagerduty_type(routing_key="R0UTINGKEY0123456789abcdef012345",
                              api_url=closed_port_url())


class TestTeamsWebhook(NotifierContract):
    @pytest.fixture
    def received(self, http_receiver):
        return http_receiver.requests

    @pytest.fixture
    def notifier(self, teams_type, http_receiver):
        return teams_type(url=http_receiver.url + "/workflows/abc")

    @pytest.fixture
    def unreachable_notifier(self, teams_type):
        return teams_type(url=closed_port_url())


# -- PagerDuty -------------------------------------------------------------------------


def test_pagerduty_event_has_the_events_api_v2_shape(pagerduty_type, pagerduty_api):
    pd = pagerduty_type(routing_key="key-123", severity="critical", source="etl-host",
                        component="postgres", group="nightly", class_type="load failure",
                        api_url=pagerduty_api.url + "/v2/enqueue")
    pd.notify("3 rows rejected", subject="load_orders failed")

    [request] = pagerduty_api.requests
    assert request["method"] == "POST"
    assert request["path"] == "/v2/enqueue"
    assert request["headers"]["content-type"] == "application/json"
    assert request["json"] == {
        "routing_key": "key-123",
        "event_action": "trigger",
        "payload": {
            "summary": "load_orders failed: 3 rows rejected",
            "source": "etl-host",
            "severity": "critical",
            "component": "postgres",
            "group": "nightly",
            "class": "load failure",
            "custom_details": {"body": "3 rows rejected"},
        },
    }


def test_pagerduty_defaults_and_unset_optional_fields(pagerduty_type, pagerduty_api):
    pagerduty_type(routing_key="key-123", api_url=pagerduty_api.url).notify("disk full")

    payload = pagerduty_api.requests[0]["json"]["payload"]
    assert payload == {"summary": "disk full", "source": "core-blocks", "severity": "error",
                       "custom_details": {"body": "disk full"}}
    assert "dedup_key" not in pagerduty_api.requests[0]["json"]


def test_pagerduty_summary_is_cut_to_1024_characters(pagerduty_type, pagerduty_api):
    body = "x" * 5000
    pagerduty_type(routing_key="key-123", api_url=pagerduty_api.url).notify(body, subject="big")

    event = pagerduty_api.requests[0]["json"]
    assert len(event["payload"]["summary"]) == 1024
    assert event["payload"]["summary"].startswith("big: xxx")
    assert event["payload"]["custom_details"]["body"] == body  # the full text still arrives


def test_pagerduty_http_202_is_success_and_gives_the_dedup_key(pagerduty_type, pagerduty_api):
    pd = pagerduty_type(routing_key="key-123", api_url=pagerduty_api.url)

    assert pd.trigger("disk full") == "pd-dedup-1"
    assert pd.trigger("disk full", dedup_key="db-1-disk") == "pd-dedup-1"
    assert pagerduty_api.requests[1]["json"]["dedup_key"] == "db-1-disk"


def test_pagerduty_resolve_sends_a_resolve_event(pagerduty_type, pagerduty_api):
    pagerduty_type(routing_key="key-123", api_url=pagerduty_api.url).resolve("db-1-disk")

    assert pagerduty_api.requests[0]["json"] == {
        "routing_key": "key-123", "event_action": "resolve", "dedup_key": "db-1-disk"}


def test_pagerduty_overlong_dedup_key_is_refused_before_sending(pagerduty_type, pagerduty_api):
    pd = pagerduty_type(routing_key="key-123", api_url=pagerduty_api.url)

    with pytest.raises(NotificationError, match="255"):
        pd.notify("x", dedup_key="k" * 256)
    assert pagerduty_api.requests == []


def test_pagerduty_http_400_names_the_block_and_hides_the_key(pagerduty_type, pagerduty_api,
                                                               canary):
    pagerduty_api.status = 400
    # Even a server that echoes the key back must not get it into the message.
    pagerduty_api.body = json.dumps({
        "status": "invalid event", "message": "Event object is invalid",
        "errors": [f"Invalid routing key {canary}"]}).encode()
    pd = pagerduty_type(routing_key=canary, api_url=pagerduty_api.url + "/v2/enqueue")
    pd.save("oncall")

    with pytest.raises(NotificationError) as caught:
        pd.notify("disk full")

    message = str(caught.value)
    assert "'oncall'" in message
    assert "HTTP 400" in message
    assert "Event object is invalid" in message
    assert "api_url" in message  # the fix names the field; the transport never shows URLs
    assert canary not in message
    assert "\n" not in message


def test_pagerduty_error_of_an_unsaved_block(pagerduty_type, pagerduty_api):
    pagerduty_api.status = 500
    pagerduty_api.body = b"oops"
    pd = pagerduty_type(routing_key="key-123", api_url=pagerduty_api.url)

    with pytest.raises(NotificationError,
                       match=r"^PagerDuty Events \(unsaved\) got HTTP 500; .*retry later"):
        pd.notify("x")
    assert len(pagerduty_api.requests) == 1  # no dedup_key: a repeat could open a second alert


@pytest.mark.parametrize("changes, field", [
    ({"severity": "fatal"}, "severity"),
    ({"api_url": "events.pagerduty.com"}, "api_url"),
    ({"routing_key": "  "}, "routing_key"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
])
def test_pagerduty_bad_fields_are_named(pagerduty_type, changes, field):
    with pytest.raises(BlockValidationError) as caught:
        pagerduty_type(**{"routing_key": "key-123", **changes})
    assert caught.value.fields == [field]


# -- Teams -----------------------------------------------------------------------------


def test_teams_message_is_an_adaptive_card(teams_type, http_receiver):
    teams_type(url=http_receiver.url + "/workflows/abc").notify("3 rows rejected",
                                                                subject="load_orders failed")

    [request] = http_receiver.requests
    assert request["method"] == "POST"
    assert request["path"] == "/workflows/abc"
    assert request["headers"]["content-type"] == "application/json"
    assert request["json"] == {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": "load_orders failed", "weight": "Bolder",
                     "size": "Medium", "wrap": True, "color": "Attention"},
                    {"type": "TextBlock", "text": "3 rows rejected", "wrap": True},
                ],
            },
        }],
    }


def test_teams_without_subject_sends_the_body_alone(teams_type, http_receiver):
    teams_type(url=http_receiver.url).notify("disk full")

    card = http_receiver.requests[0]["json"]["attachments"][0]["content"]
    assert card["body"] == [{"type": "TextBlock", "text": "disk full", "wrap": True}]


@pytest.mark.parametrize("theme_color, color", [
    ("D70000", "Attention"), ("#2EB886", "Good"), ("ffb000", "Warning"), ("0078D4", "Accent"),
    ("808080", "Default"),
])
def test_teams_theme_color_picks_the_nearest_card_colour(teams_type, theme_color, color):
    hook = teams_type(url="https://example.invalid/hook", theme_color=theme_color)
    subject = hook.render("b", subject="s")["attachments"][0]["content"]["body"][0]
    assert subject["color"] == color


def test_teams_bad_theme_color_is_named(teams_type):
    with pytest.raises(BlockValidationError, match="theme_color"):
        teams_type(url="https://example.invalid/hook", theme_color="red")


def test_teams_http_error_names_the_block_and_hides_the_url(teams_type, http_receiver, canary):
    http_receiver.status = 400
    hook = teams_type(url=f"{http_receiver.url}/{canary}")
    hook.save("data-team")

    with pytest.raises(NotificationError) as caught:
        hook.notify("x")

    message = str(caught.value)
    assert "'data-team'" in message and "HTTP 400" in message
    assert canary not in message
    assert http_receiver.url not in message


# -- secrets stay secret ----------------------------------------------------------------


@pytest.fixture(params=[PAGERDUTY, TEAMS])
def planted(request, plugin_registry, http_receiver, canary):
    """(block holding the canary, a twin aimed at a closed port) for each plugin type."""
    cls = plugin_registry.block_type(request.param)
    if request.param == PAGERDUTY:
        return (cls(routing_key=canary, api_url=http_receiver.url),
                cls(routing_key=canary, api_url=closed_port_url()))
    return (cls(url=f"{http_receiver.url}/{canary}"),
            cls(url=f"{closed_port_url()}/{canary}"))


def test_canary_never_leaks(planted, http_receiver, block_home, canary):
    block, unreachable = planted
    block.save("canary-check")
    unreachable.save("canary-unreachable")

    http_receiver.status = 400
    with pytest.raises(NotificationError) as refused:
        block.notify("x")
    with pytest.raises(NotificationError, match="could not be reached") as unreached:
        unreachable.notify("x")

    shown = [repr(block), str(block), repr(unreachable), str(refused.value),
             str(unreached.value), json.dumps(block.model_dump(mode="json")),
             block.model_dump_json()]
    assert not [text for text in shown if canary in text]
    assert (block_home / "blocks.db").is_file()
    for path in block_home.glob("blocks.db*"):  # the WAL too
        assert canary.encode() not in path.read_bytes(), path
    assert canary in json.dumps(block.model_dump(mode="json", include_secrets=True))


def test_an_invalid_secret_url_is_a_clear_error_without_the_url(teams_type, canary):
    hook = teams_type(url=f"http://127.0.0.1:notaport/{canary}")

    with pytest.raises(NotificationError, match="a URL that is not valid") as caught:
        hook.notify("x")
    assert canary not in str(caught.value)


# -- loading saved blocks through the registry -------------------------------------------


def test_block_load_by_type_slug(pagerduty_type, teams_type, pagerduty_api, canary):
    pagerduty_type(routing_key=canary, severity="warning",
                   api_url=pagerduty_api.url).save("oncall")
    teams_type(url=f"{pagerduty_api.url}/{canary}").save("data-team")

    pd = Block.load(f"{PAGERDUTY}/oncall")
    assert type(pd) is pagerduty_type
    assert pd.severity == "warning"
    assert pd.routing_key.get_secret_value() == canary
    teams = Block.load(f"{TEAMS}/data-team")
    assert type(teams) is teams_type
    assert sorted(Block.list()) == [f"{TEAMS}/data-team", f"{PAGERDUTY}/oncall"]


def test_a_fresh_process_loads_and_notifies_through_the_registry(pagerduty_type, pagerduty_api,
                                                                 canary):
    pagerduty_type(routing_key=canary, api_url=pagerduty_api.url).save("oncall")
    probe = (
        "from core_blocks import Block\n"
        f"pd = Block.load('{PAGERDUTY}/oncall')\n"
        "print(type(pd).__module__)\n"
        "pd.notify('from another process', subject='cron')\n"
    )
    out = _run(probe, dict(os.environ))  # same home, key and plugin folder

    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "core_blocks_plugins.pagerduty_events"
    event = pagerduty_api.requests[-1]["json"]
    assert event["routing_key"] == canary
    assert event["payload"]["summary"] == "cron: from another process"


def test_loading_without_the_folder_listed_is_a_clear_error(pagerduty_type, pagerduty_api):
    pagerduty_type(routing_key="key-123", api_url=pagerduty_api.url).save("oncall")
    env = {**os.environ, "CORE_BLOCKS_PLUGINS_DIRS": ""}
    probe = (
        "from core_blocks import Block\n"
        "from core_blocks.errors import BlockTypeNotFound\n"
        "try:\n"
        f"    Block.load('{PAGERDUTY}/oncall')\n"
        "except BlockTypeNotFound as exc:\n"
        "    print(exc)\n"
    )
    out = _run(probe, env)

    assert out.returncode == 0, out.stderr
    assert f"Unknown block type '{PAGERDUTY}'" in out.stdout



# -- which sends are repeated ------------------------------------------------------------


def test_pagerduty_event_with_a_dedup_key_is_retried_after_a_5xx(pagerduty_type, pagerduty_api):
    # PagerDuty merges events with one dedup_key into one alert: sending again is harmless.
    pagerduty_api.script = [503, "drop"]
    pd = pagerduty_type(routing_key="key-123", api_url=pagerduty_api.url)

    assert pd.trigger("disk full", dedup_key="db-1-disk") == "pd-dedup-1"
    pd.resolve("db-1-disk")

    assert [r["json"]["event_action"] for r in pagerduty_api.requests] == [
        "trigger", "trigger", "trigger", "resolve"]


def test_teams_post_is_never_sent_twice(teams_type, http_receiver):
    http_receiver.script = ["drop"]

    with pytest.raises(NotificationError, match="could not be reached"):
        teams_type(url=http_receiver.url).notify("disk full")
    assert len(http_receiver.requests) == 1
