"""AwsClientParameters: what reaches boto3's client, and clear errors for bad options."""

from __future__ import annotations

import pytest

from core_blocks.errors import BlockValidationError
from prefect_aws import AwsClientParameters, AwsCredentials


def test_defaults_leave_boto3_alone():
    assert AwsClientParameters().client_kwargs() == {"use_ssl": True, "verify": True}


def test_every_option_reaches_the_client(mocked_aws):
    params = AwsClientParameters(
        endpoint_url="http://127.0.0.1:9", use_ssl=False, verify=False, api_version="2006-03-01",
        config={"retries": {"total_max_attempts": 7, "mode": "standard"},
                "max_pool_connections": 33, "connect_timeout": 2})

    client = AwsCredentials(region_name="us-east-1", aws_client_parameters=params).get_s3_client()

    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.config.max_pool_connections == 33
    assert client.meta.config.connect_timeout == 2
    assert client.meta.config.retries["total_max_attempts"] == 7
    assert client.meta.service_model.api_version == "2006-03-01"


def test_verify_takes_a_ca_bundle_path(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")

    assert AwsClientParameters(verify=str(bundle)).client_kwargs()["verify"] == str(bundle)


def test_missing_ca_bundle_is_named(tmp_path):
    params = AwsClientParameters(verify=str(tmp_path / "nope.pem"))

    with pytest.raises(BlockValidationError, match=r"verify.*nope\.pem"):
        params.client_kwargs()


@pytest.mark.parametrize(("text", "value"), [("false", False), ("True", True)])
def test_verify_as_cli_text_is_a_bool(text, value):
    assert AwsClientParameters(verify=text).verify is value


def test_unknown_config_option_is_named():
    params = AwsClientParameters(config={"max_pool_conections": 5})

    with pytest.raises(BlockValidationError, match="max_pool_conections"):
        params.client_kwargs()


def test_endpoint_must_be_a_url():
    with pytest.raises(BlockValidationError, match="endpoint_url.*http://"):
        AwsClientParameters(endpoint_url="127.0.0.1:9000")


def test_saved_and_loaded(mocked_aws):
    AwsClientParameters(endpoint_url="http://127.0.0.1:9", config={"retries": {"mode": "adaptive"}}
                        ).save("local")

    loaded = AwsClientParameters.load("local")

    assert loaded.endpoint_url == "http://127.0.0.1:9"
    assert loaded.botocore_config().retries == {"mode": "adaptive"}
