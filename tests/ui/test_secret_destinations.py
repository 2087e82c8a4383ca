"""An edit in the page that changes where a block connects must enter its saved secrets
again: they never follow the block to a new destination unseen."""

from __future__ import annotations

import pytest

from core_blocks import Secret, Webhook
from core_blocks.ui.secret_destinations import is_destination
from tests.ui.blocks import UiWarehouse

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI=true
    expect = None


@pytest.fixture
def alerts(client, canary):
    Webhook(url="https://hooks.example.test/T0",
            headers={"Authorization": f"Bearer {canary}"}).save("alerts")
    return client.get("/api/blocks/webhook/alerts").json["version"]


def put(client, ref: str, version: int, values: dict):
    return client.request("PUT", f"/api/blocks/{ref}", {"version": version, "values": values})


def test_repointing_a_webhook_without_its_headers_is_refused(client, alerts, canary):
    reply = put(client, "webhook/alerts", alerts, {"url": "http://127.0.0.1:9/elsewhere"})

    assert reply.status == 422
    assert reply.json["fields"] == {"headers": "Enter it again, or clear it: url changed."}
    assert reply.json["error"].startswith("Not saved: url changed where webhook connects, so "
                                          "enter its saved secret field(s) headers again")
    saved = Webhook.load("alerts")
    assert saved.url.get_secret_value() == "https://hooks.example.test/T0"
    assert saved._block_document_version == alerts
    assert canary not in "".join(client.transcript)


def test_repointing_with_the_headers_entered_again_or_cleared_is_saved(client, alerts):
    cleared = put(client, "webhook/alerts", alerts,
                  {"url": "https://hooks.example.test/T1", "headers": {}})
    assert cleared.status == 200, cleared.text
    assert Webhook.load("alerts").headers.get_secret_value() == {}

    again = put(client, "webhook/alerts", cleared.json["version"],
                {"url": "https://hooks.example.test/T2", "headers": {"X-Token": "new"}})
    assert again.status == 200, again.text
    saved = Webhook.load("alerts")
    assert (saved.url.get_secret_value(), saved.headers.get_secret_value()) == (
        "https://hooks.example.test/T2", {"X-Token": "new"})


def test_other_changes_keep_the_saved_secrets(client, alerts, canary):
    reply = put(client, "webhook/alerts", alerts, {"method": "PUT", "timeout_seconds": 5})

    assert reply.status == 200, reply.text
    assert Webhook.load("alerts").headers.get_secret_value() == {
        "Authorization": f"Bearer {canary}"}


def test_a_new_host_or_port_needs_the_password_but_the_same_host_does_not(client, canary):
    Secret(value="login").save("wh-login")
    UiWarehouse(host="db.internal", password=canary, login=Secret.load("wh-login")).save("main")
    version = client.get("/api/blocks/ui-warehouse/main").json["version"]

    same = put(client, "ui-warehouse/main", version, {"host": "db.internal", "port": 5432,
                                                       "mode": "write"})
    assert same.status == 200, same.text
    version = same.json["version"]
    for change in ({"host": "attacker.example"}, {"port": 6543}):
        refused = put(client, "ui-warehouse/main", version, change)
        assert refused.status == 422 and list(refused.json["fields"]) == ["password"]
    moved = put(client, "ui-warehouse/main", version, {"host": "db2.internal",
                                                        "password": "new-pass"})
    assert moved.status == 200, moved.text
    assert UiWarehouse.load("main").password.get_secret_value() == "new-pass"


def test_a_nested_block_with_an_endpoint_counts_but_a_secret_block_does_not(client, canary):
    from prefect_aws import AwsClientParameters, AwsCredentials

    AwsClientParameters(endpoint_url="http://127.0.0.1:9000").save("minio")
    AwsClientParameters(endpoint_url="http://127.0.0.1:9999").save("elsewhere")
    AwsCredentials(aws_access_key_id="AKIA", aws_secret_access_key=canary,
                   aws_client_parameters=AwsClientParameters.load("minio")).save("prod")
    version = client.get("/api/blocks/aws-credentials/prod").json["version"]
    repointed = put(client, "aws-credentials/prod", version,
                    {"aws_client_parameters": "aws-client-parameters/elsewhere"})
    assert repointed.status == 422
    assert list(repointed.json["fields"]) == ["aws_secret_access_key"]

    Secret(value="one").save("login-a")
    Secret(value="two").save("login-b")
    UiWarehouse(host="db", password=canary, login=Secret.load("login-a")).save("main")
    version = client.get("/api/blocks/ui-warehouse/main").json["version"]
    relogin = put(client, "ui-warehouse/main", version, {"login": "secret/login-b"})
    assert relogin.status == 200, relogin.text
    assert UiWarehouse.load("main").password.get_secret_value() == canary


def test_repointing_a_block_that_others_use_with_secrets_is_refused(client, canary):
    """Editing AwsClientParameters' endpoint would send the keys of every AwsCredentials using
    it (by name, or inline in an S3Bucket) to the new endpoint: refused, naming them; a change
    that does not move the endpoint, or a block no secret holder uses, is saved."""
    from prefect_aws import AwsClientParameters, AwsCredentials, S3Bucket

    AwsClientParameters(endpoint_url="http://127.0.0.1:9000").save("minio")
    AwsCredentials(aws_access_key_id="AKIA", aws_secret_access_key=canary,
                   aws_client_parameters=AwsClientParameters.load("minio")).save("prod")
    S3Bucket(bucket_name="data", credentials=AwsCredentials(
        aws_access_key_id="AKIB", aws_secret_access_key=canary,
        aws_client_parameters=AwsClientParameters.load("minio"))).save("lake")
    version = client.get("/api/blocks/aws-client-parameters/minio").json["version"]

    moved = put(client, "aws-client-parameters/minio", version,
                {"endpoint_url": "https://attacker.example"})
    assert moved.status == 422
    assert moved.json["error"].startswith(
        "Not saved: endpoint_url changed where aws-client-parameters/minio connects, and "
        "aws-credentials/prod, s3-bucket/lake use it with saved secrets")
    assert list(moved.json["fields"]) == ["endpoint_url"]
    assert AwsClientParameters.load("minio").endpoint_url == "http://127.0.0.1:9000"
    assert canary not in "".join(client.transcript)

    same = put(client, "aws-client-parameters/minio", version, {"verify": False})
    assert same.status == 200, same.text

    AwsClientParameters(endpoint_url="http://127.0.0.1:9001").save("unused")
    version = client.get("/api/blocks/aws-client-parameters/unused").json["version"]
    free = put(client, "aws-client-parameters/unused", version,
               {"endpoint_url": "http://127.0.0.1:9002"})
    assert free.status == 200, free.text


def test_in_the_page_a_new_endpoint_asks_for_the_keys_again_or_clears_them(page, canary):
    from prefect_aws import AwsClientParameters, AwsCredentials

    AwsClientParameters(endpoint_url="http://127.0.0.1:9000").save("minio")
    AwsClientParameters(endpoint_url="http://127.0.0.1:9999").save("elsewhere")
    AwsCredentials(aws_access_key_id="AKIA", aws_secret_access_key=canary,
                   aws_session_token=canary + "-session",
                   aws_client_parameters=AwsClientParameters.load("minio")).save("prod")
    page.goto(page.base + "#/edit/aws-credentials/prod")
    expect(page.locator("h1")).to_have_text("Edit aws-credentials/prod")

    page.select_option("#f-aws_client_parameters", "aws-client-parameters/elsewhere")
    page.click("#save")
    for field in ("aws_secret_access_key", "aws_session_token"):
        expect(page.locator(f"#err-{field}")).to_have_text(
            "Enter it again, or clear it: aws_client_parameters changed.")
    page.fill("#f-aws_secret_access_key", "new-secret-key")
    page.check("#clear-aws_session_token")
    page.click("#save")
    expect(page.locator("h1")).to_have_text("aws-credentials/prod")

    saved = AwsCredentials.load("prod")
    assert saved.aws_client_parameters.endpoint_url == "http://127.0.0.1:9999"
    assert (saved.aws_secret_access_key.get_secret_value(), saved.aws_session_token) == (
        "new-secret-key", None)
    assert canary not in page.content()


def test_destination_fields_are_named_like_addresses():
    assert all(map(is_destination, ["url", "host", "port", "endpoint_url", "base_url",
                                    "registry_url", "account", "Server"]))
    assert not any(map(is_destination, ["method", "headers", "password", "timeout_seconds",
                                        "name", "urls_seen"]))
