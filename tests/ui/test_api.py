"""The JSON API the page uses, over HTTP to an in-process server: the CLI's shapes and words,
secrets never sent."""

from __future__ import annotations

import pytest

from core_blocks import Secret
from tests.helpers import plugin_folder
from tests.ui.blocks import UiWarehouse, failing_flow


@pytest.fixture
def saved(client, canary):
    """A secret block and a warehouse that references it, saved through the API."""
    assert client.request("POST", "/api/blocks", {
        "type": "secret", "name": "wh-login", "values": {"value": canary}}).status == 200
    reply = client.request("POST", "/api/blocks", {
        "type": "ui-warehouse", "name": "main", "values": {
            "host": "db.internal", "password": canary, "login": "secret/wh-login",
            "options": {"sslmode": "require"}}})
    assert reply.status == 200, reply.text
    return reply.json


def test_types_lists_every_plugin_type_with_the_cli_shape(client):
    body = client.get("/api/types").json

    slugs = {t["slug"] for t in body["types"]}
    assert {"secret", "string", "webhook", "local-file-system"} <= slugs
    secret = next(t for t in body["types"] if t["slug"] == "secret")
    assert secret["plugin"] == "core" and secret["fields"] == ["value"]
    assert body["plugin_errors"] == {}


def test_types_shows_a_broken_plugins_error_as_the_cli_does(client, tmp_path, monkeypatch):
    plugin_folder(tmp_path, monkeypatch, "broken_plugin.py",
                  "raise ImportError('cannot find vendor sdk')\n")

    body = client.get("/api/types").json

    [message] = body["plugin_errors"].values()
    assert "broken_plugin" in message and "cannot find vendor sdk" in message
    assert "secret" in {t["slug"] for t in body["types"]}


def test_create_edit_delete_on_either_store(client, any_store, canary):
    client.request("POST", "/api/blocks", {"type": "webhook", "name": "alerts",
                                           "values": {"url": f"https://example.test/{canary}"}})
    version = client.get("/api/blocks/webhook/alerts").json["version"]
    edited = client.request("PUT", "/api/blocks/webhook/alerts",
                            {"version": version, "values": {"method": "PUT"}})
    assert edited.status == 200, edited.text
    assert client.get("/api/blocks/webhook/alerts").json["fields"] == {
        "body_template": '{"subject": "$subject", "body": "$body"}', "headers": "********",
        "idempotent": None, "method": "PUT", "timeout_seconds": 10.0, "url": "********"}
    assert client.request("DELETE", "/api/blocks/webhook/alerts").status == 200
    assert canary not in "".join(client.transcript)


def test_schema_is_the_types_json_schema(client):
    assert client.get("/api/types/webhook/schema").json["secret_fields"] == ["headers", "url"]
    missing = client.get("/api/types/no-such-type/schema")
    assert missing.status == 404 and "no-such-type" in missing.json["error"]


def test_create_then_list_and_describe_without_secrets(client, saved, canary):
    assert saved["type"] == "ui-warehouse" and saved["name"] == "main"

    listed = client.get("/api/blocks?type=ui-warehouse").json
    assert [b["name"] for b in listed] == ["main"]
    assert client.get("/api/blocks?q=wh-").json[0]["name"] == "wh-login"
    shown = client.get("/api/blocks/ui-warehouse/main").json
    assert shown["fields"]["password"] == "********"
    assert shown["fields"]["login"] == {"ref": "secret/wh-login"}
    assert shown["secrets_set"] == {"password": True}
    assert shown["references"] == ["secret/wh-login"]
    login = client.get("/api/blocks/secret/wh-login").json
    assert login["referenced_by"] == [{"block": "ui-warehouse/main", "field": "login"}]
    assert UiWarehouse.load("main").password.get_secret_value() == canary
    assert canary not in "".join(client.transcript)


def test_field_errors_use_the_cli_words_per_field(client, canary):
    reply = client.request("POST", "/api/blocks", {"type": "ui-warehouse", "name": "bad",
                                                   "values": {"port": -1, "password": canary}})

    assert reply.status == 422
    with pytest.raises(Exception) as cli_error:  # what `blocks create` prints for the same
        UiWarehouse(port=-1, password=canary)
    assert reply.json["error"] == str(cli_error.value)
    assert reply.json["fields"] == {
        "host": "Invalid ui-warehouse block: field 'host' is required.",
        "port": "Invalid ui-warehouse block: field 'port': Input should be greater than 0.",
    }
    assert canary not in reply.text


def test_bad_name_and_existing_block_are_refused(client, saved):
    bad = client.request("POST", "/api/blocks", {"type": "secret", "name": "Bad Name",
                                                 "values": {"value": "x"}})
    assert bad.status == 400 and "Invalid block name 'Bad Name'" in bad.json["error"]
    again = client.request("POST", "/api/blocks", {"type": "secret", "name": "wh-login",
                                                   "values": {"value": "x"}})
    assert again.status == 409 and "already exists" in again.json["error"]


def test_nested_field_refuses_a_block_of_another_type(client, saved):
    reply = client.request("POST", "/api/blocks", {"type": "ui-warehouse", "name": "other",
                                                   "values": {"host": "h", "password": "p",
                                                              "login": "ui-warehouse/main"}})
    assert reply.status == 422
    assert reply.json["fields"] == {"login": "Takes secret, not ui-warehouse."}


def test_edit_keeps_secrets_left_out_and_the_reference(client, saved, canary):
    version = client.get("/api/blocks/ui-warehouse/main").json["version"]

    reply = client.request("PUT", "/api/blocks/ui-warehouse/main",
                           {"version": version, "values": {"mode": "write", "tls": False}})

    assert reply.status == 200, reply.text
    assert reply.json["version"] == version + 1
    block = UiWarehouse.load("main")
    assert (block.mode, block.tls) == ("write", False)
    assert block.password.get_secret_value() == canary
    assert block.login.saved_ref == "secret/wh-login"
    assert canary not in "".join(client.transcript)


def test_edit_replaces_a_secret_given_and_clears_a_nested_block(client, saved):
    version = client.get("/api/blocks/ui-warehouse/main").json["version"]
    client.request("PUT", "/api/blocks/ui-warehouse/main",
                   {"version": version, "values": {"password": "new-pass", "login": None}})

    block = UiWarehouse.load("main")
    assert block.password.get_secret_value() == "new-pass" and block.login is None
    assert client.get("/api/blocks/secret/wh-login").json["referenced_by"] == []


def test_edit_of_a_changed_block_is_refused_not_overwritten(client, saved):
    version = client.get("/api/blocks/ui-warehouse/main").json["version"]
    other = UiWarehouse.load("main")
    other.host = "theirs"
    other.save("main", overwrite=True)

    reply = client.request("PUT", "/api/blocks/ui-warehouse/main",
                           {"version": version, "values": {"host": "mine"}})

    assert reply.status == 409
    assert "changed by someone else" in reply.json["error"]
    assert UiWarehouse.load("main").host == "theirs"


def test_edit_with_an_invalid_value_saves_nothing(client, saved):
    version = client.get("/api/blocks/ui-warehouse/main").json["version"]
    reply = client.request("PUT", "/api/blocks/ui-warehouse/main",
                           {"version": version, "values": {"mode": "delete"}})

    assert reply.status == 422 and list(reply.json["fields"]) == ["mode"]
    assert client.get("/api/blocks/ui-warehouse/main").json["version"] == version


def test_delete_is_refused_while_referenced(client, saved):
    refused = client.request("DELETE", "/api/blocks/secret/wh-login")
    assert refused.status == 409
    assert refused.json["error"] == ("Cannot delete secret/wh-login: it is referenced by "
                                     "ui-warehouse/main (field 'login'). Delete those blocks "
                                     "or point them at another block first.")

    assert client.request("DELETE", "/api/blocks/ui-warehouse/main").json["name"] == "main"
    assert client.request("DELETE", "/api/blocks/secret/wh-login").status == 200
    assert Secret.list() == []
    assert client.request("DELETE", "/api/blocks/secret/wh-login").status == 404


def test_runs_list_filters_and_a_failed_runs_traceback(client):
    failing_flow()

    runs = client.get("/api/runs?flow=nightly-load&state=failed&kind=flow").json
    assert [r["state_name"] for r in runs] == ["Failed"]
    assert "traceback" not in runs[0]
    assert client.get("/api/runs?state=Completed").json == []
    run = client.get(f"/api/runs/{runs[0]['id']}").json
    assert "RuntimeError: warehouse unreachable on 2026-11-24" in run["traceback"]
    assert [s["name"] for s in run["states"]][-1] == "Failed"
    assert run["parameters"] == {"day": "2026-11-24"}
    assert client.get("/api/runs?state=exploded").status == 400
    assert client.get("/api/runs/0000dead").status == 404


def test_concurrency_limits_set_list_delete(client):
    assert client.request("PUT", "/api/concurrency/warehouse", {"slots": 3}).status == 200
    assert client.get("/api/concurrency").json == [
        {"name": "warehouse", "slots": 3, "active": 0, "holders": 0}]
    assert client.request("PUT", "/api/concurrency/warehouse", {"slots": -1}).status == 400
    assert client.request("DELETE", "/api/concurrency/warehouse").status == 200
    missing = client.request("DELETE", "/api/concurrency/warehouse")
    assert missing.status == 404 and "blocks concurrency set warehouse" in missing.json["error"]


def test_unknown_routes_and_bodies_are_refused(client):
    assert client.get("/api/nothing").status == 404
    assert client.get("/nothing").status == 404
    not_json = client.request("POST", "/api/blocks", headers={"Content-Type": "text/plain"})
    assert not_json.status == 400 and "JSON" in not_json.json["error"]
