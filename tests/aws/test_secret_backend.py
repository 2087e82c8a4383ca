"""The aws-secrets-manager secret backend (moto in process; the server run is end-to-end)."""

from __future__ import annotations

import json

import pytest

from core_blocks import Secret
from core_blocks.errors import SecretBackendError
from core_blocks.secrets.selection import backend_named
from core_blocks.settings import current
from core_blocks.testing import reset_state
from core_blocks.testing.contracts import SecretBackendContract
from prefect_aws.secret_backend import AwsSecretsManagerBackend
from tests.aws.conftest import closed_port


@pytest.fixture
def use_secrets_manager(monkeypatch, mocked_aws):
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "aws-secrets-manager")
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_REGION", "eu-west-1")
    reset_state()
    yield
    reset_state()


class TestAwsSecretsManagerBackend(SecretBackendContract):
    @pytest.fixture
    def backend(self, use_secrets_manager):
        return backend_named("aws-secrets-manager")


def _secrets(region: str = "eu-west-1") -> dict[str, dict]:
    import boto3

    client = boto3.client("secretsmanager", region_name=region)
    return {s["Name"]: json.loads(client.get_secret_value(SecretId=s["Name"])["SecretString"])
            for s in client.list_secrets()["SecretList"]}


def test_block_secrets_are_kept_in_aws(use_secrets_manager, block_home, canary):
    Secret(value=canary).save("prod-db")

    (name, values), = _secrets().items()
    assert name.startswith("core-blocks/secret/prod-db/")
    assert values == {"value": canary}
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()
    assert Secret.load("prod-db").get() == canary


def test_overwrite_and_delete_remove_old_secrets(use_secrets_manager):
    Secret(value="one").save("prod-db")
    Secret(value="two").save("prod-db", overwrite=True)

    assert [v for v in _secrets().values()] == [{"value": "two"}]
    Secret.delete("prod-db")
    assert _secrets() == {}


def test_prefix_comes_from_the_environment(use_secrets_manager, monkeypatch):
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_PREFIX", "teams/data/")

    Secret(value="x").save("token")

    assert list(_secrets())[0].startswith("teams/data/secret/token/")


def test_region_falls_back_to_aws_region(monkeypatch, mocked_aws):
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    backend = AwsSecretsManagerBackend(current())

    backend.write("k/1", {"value": "v"}, "secret/k")

    assert _secrets("ap-south-1") == {"core-blocks/k/1": {"value": "v"}}


def test_no_region_makes_it_unusable(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    reason = AwsSecretsManagerBackend.unusable_reason(current())

    assert "CORE_BLOCKS_AWS_SECRETS_REGION" in reason


def test_save_without_a_region_fails_cleanly(monkeypatch, block_home):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "aws-secrets-manager")
    reset_state()

    with pytest.raises(SecretBackendError, match="no AWS region"):
        Secret(value="x").save("prod-db")
    assert Secret.list() == []


def test_unreachable_endpoint_is_named(monkeypatch, canary):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    backend = AwsSecretsManagerBackend(current())

    with pytest.raises(SecretBackendError) as caught:
        backend.write("k/1", {"value": canary}, "secret/k")

    assert endpoint in str(caught.value) and "core-blocks/k/1" in str(caught.value)
    assert canary not in str(caught.value)


def test_refused_credentials_are_reported(use_secrets_manager, monkeypatch):
    from moto.core import set_initial_no_auth_action_count

    backend = backend_named("aws-secrets-manager")

    @set_initial_no_auth_action_count(0)
    def read():
        return backend.read("k/1", "secret/k")

    with pytest.raises(SecretBackendError, match="refused the credentials"):
        read()


def test_errors_name_the_endpoint_actually_called(monkeypatch):
    """AWS_ENDPOINT_URL_SECRETS_MANAGER sets the endpoint too: the error names it, and points
    at the backend's own variables, not at a block's aws_client_parameters."""
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    backend = AwsSecretsManagerBackend(current())

    with pytest.raises(SecretBackendError) as caught:
        backend.read("k/1", "secret/k")

    message = str(caught.value)
    assert f"Could not reach the AWS endpoint {endpoint}" in message
    assert "CORE_BLOCKS_AWS_SECRETS_ENDPOINT_URL" in message
    assert "aws_client_parameters" not in message


def test_refused_credentials_point_at_the_default_chain(use_secrets_manager):
    from moto.core import set_initial_no_auth_action_count

    backend = backend_named("aws-secrets-manager")

    @set_initial_no_auth_action_count(0)
    def write():
        backend.write("k/1", {"value": "v"}, "secret/k")

    with pytest.raises(SecretBackendError) as caught:
        write()

    message = str(caught.value)
    assert "at https://secretsmanager.eu-west-1.amazonaws.com" in message
    assert "CORE_BLOCKS_AWS_SECRETS_PROFILE" in message and "AWS_ACCESS_KEY_ID" in message
    assert "secret key, session token" not in message  # a block's fields: not what is used
