"""Numbers through the page: integers beyond 2^53 come back unchanged, and NaN or infinite
numbers (which JSON cannot hold) are refused at the field, never saved as null."""

from __future__ import annotations

import re

import pytest

from core_blocks import JSON, Secret
from tests.ui.blocks import UiWarehouse

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI=true
    expect = None

BIG = 2**64 + 7  # 18446744073709551623: a double would read 18446744073709552000


@pytest.mark.parametrize("literal, found", [
    ("NaN", "NaN"), ("-Infinity", "-Infinity"), ('{"rate": 1e999}', 'Infinity at ["rate"]'),
], ids=["nan", "minus-infinity", "overflow"])
def test_the_api_refuses_numbers_json_cannot_hold(client, literal, found):
    body = '{"type": "json", "name": "rates", "values": {"value": LITERAL}}'.replace(
        "LITERAL", literal)

    reply = client.request("POST", "/api/blocks", raw=body)

    message = (f"Invalid json block: field 'value' holds {found}, which JSON cannot store (it "
               "would be saved as null); write a finite number, or null.")
    assert reply.status == 422 and reply.json == {"error": message, "fields": {"value": message}}
    assert JSON.list() == []


def test_the_api_refuses_them_in_an_edit_too(client):
    JSON(value={"rate": 1.5}).save("rates")
    version = client.get("/api/blocks/json/rates").json["version"]

    reply = client.request("PUT", "/api/blocks/json/rates",
                           raw=f'{{"version": {version}, "values": {{"value": {{"rate": NaN}}}}}}')

    assert reply.status == 422 and list(reply.json["fields"]) == ["value"]
    assert JSON.load("rates").value == {"rate": 1.5}


def test_big_integers_survive_an_edit_in_the_page(page, canary):
    Secret(value=canary).save("wh-login")
    UiWarehouse(host="db.internal", port=BIG, password=canary,
                options={"channel_id": BIG, "ids": [BIG, 1]}).save("main")
    JSON(value={"channel": BIG, "ratio": 0.25}).save("slack-ids")

    page.goto(page.base + "#/block/ui-warehouse/main")
    expect(page.locator("tr", has_text="port").locator("td").nth(1)).to_have_text(str(BIG))
    page.goto(page.base + "#/edit/ui-warehouse/main")
    expect(page.locator("#f-port")).to_have_value(str(BIG))
    assert str(BIG) in page.input_value("#f-options")
    page.select_option("#f-mode", label="write")
    page.click("#save")
    expect(page.locator("h1")).to_have_text("ui-warehouse/main")
    saved = UiWarehouse.load("main")
    assert (saved.mode, saved.port, saved.options) == ("write", BIG,
                                                       {"channel_id": BIG, "ids": [BIG, 1]})

    page.goto(page.base + "#/edit/json/slack-ids")
    expect(page.locator("#f-value")).to_have_value(re.compile(str(BIG)))
    page.click("#save")
    expect(page.locator("h1")).to_have_text("json/slack-ids")
    assert JSON.load("slack-ids").value == {"channel": BIG, "ratio": 0.25}


def test_an_infinite_number_typed_in_the_page_is_refused_at_its_field(page):
    JSON(value={"rate": 1.5}).save("rates")
    page.goto(page.base + "#/edit/json/rates")
    expect(page.locator("h1")).to_have_text("Edit json/rates")

    page.fill("#f-value", '{"rate": 1e999}')
    page.click("#save")

    expect(page.locator("#err-value")).to_have_text(
        "Invalid json block: field 'value' holds Infinity at [\"rate\"], which JSON cannot "
        "store (it would be saved as null); write a finite number, or null.")
    assert JSON.load("rates").value == {"rate": 1.5}
