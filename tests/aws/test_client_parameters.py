"""AwsClientParameters: what reaches boto3's client, and clear errors for bad options."""

from __future__ import annotations

import subprocess

import pytest

from core_blocks.errors import BlockValidationError
from prefect_aws import AwsClientParameters, AwsCredentials
from tests.helpers import BLOCKS


def test_defaults_leave_boto3_alone():
    # verify=True is boto3's default and left out: passing it would override AWS_CA_BUNDLE.
    assert AwsClientParameters().client_kwargs() == {"use_ssl": True}


def test_aws_ca_bundle_applies_when_verify_is_left_at_true(mocked_aws, monkeypatch, tmp_path):
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))

    client = AwsCredentials(region_name="us-east-1").get_s3_client()

    assert client._endpoint.http_session._verify == str(bundle)


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


def test_unknown_config_option_is_refused_when_the_block_is_made():
    with pytest.raises(BlockValidationError) as caught:
        AwsClientParameters(config={"max_pool_conections": 5})

    assert caught.value.fields == ["config"]
    assert str(caught.value) == (
        "Invalid aws-client-parameters block: field 'config': 'max_pool_conections' is not a "
        "botocore Config option; the nearest is 'max_pool_connections'.")


def test_an_option_nothing_resembles_lists_the_valid_ones():
    with pytest.raises(BlockValidationError, match=r"'zzz' is not a botocore Config option; "
                       r"valid options are region_name, .*retries"):
        AwsClientParameters(config={"zzz": 1})


def test_a_bad_nested_value_is_botocores_own_check():
    with pytest.raises(BlockValidationError, match=r"field 'config': .*\"mode\".*adaptive"):
        AwsClientParameters(config={"retries": {"mode": "bogus"}})


def test_a_bad_config_is_refused_through_model_validate_and_assignment():
    with pytest.raises(BlockValidationError, match="'retriez'"):
        AwsClientParameters.model_validate({"config": {"retriez": 3}})
    params = AwsClientParameters()
    with pytest.raises(BlockValidationError, match="'retriez'"):
        params.config = {"retriez": 3}
    assert params.config == {}


def test_blocks_create_refuses_an_unknown_config_key_in_one_line():
    result = subprocess.run(
        [BLOCKS, "create", "aws-client-parameters/x", "--set", 'config={"retriez": 3}'],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    assert result.returncode == 1, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert "'retriez' is not a botocore Config option; the nearest is 'retries'" in line
    assert AwsClientParameters.list() == []


def test_endpoint_must_be_a_url():
    with pytest.raises(BlockValidationError, match="endpoint_url.*http://"):
        AwsClientParameters(endpoint_url="127.0.0.1:9000")


def test_saved_and_loaded(mocked_aws):
    AwsClientParameters(endpoint_url="http://127.0.0.1:9", config={"retries": {"mode": "adaptive"}}
                        ).save("local")

    loaded = AwsClientParameters.load("local")

    assert loaded.endpoint_url == "http://127.0.0.1:9"
    assert loaded.botocore_config().retries == {"mode": "adaptive"}


# -- Prefect's spellings: a botocore Config, verify_cert_path, get_params_override ---------------

def test_a_botocore_config_object_is_taken_and_saved_as_options(mocked_aws):
    from botocore import UNSIGNED
    from botocore.config import Config

    params = AwsClientParameters(config=Config(signature_version=UNSIGNED, connect_timeout=3))
    params.save("public")
    loaded = AwsClientParameters.load("public")

    assert loaded.config == {"signature_version": "unsigned", "connect_timeout": 3}
    config = loaded.get_params_override()["config"]
    assert config.signature_version is UNSIGNED and config.connect_timeout == 3


def test_an_unsigned_client_reads_a_public_bucket(mocked_aws, aws_credentials):
    from botocore import UNSIGNED
    from botocore.config import Config

    client = aws_credentials.get_s3_client()
    client.create_bucket(Bucket="public", ACL="public-read")
    client.put_object(Bucket="public", Key="k", Body=b"open", ACL="public-read")
    anonymous = AwsCredentials(region_name="us-east-1", aws_client_parameters=AwsClientParameters(
        config=Config(signature_version=UNSIGNED)))

    assert anonymous.get_s3_client().get_object(Bucket="public", Key="k")["Body"].read() == b"open"


def test_get_params_override_gives_verify_only_when_set(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.touch()

    assert AwsClientParameters(api_version="1.0").get_params_override() == {
        "use_ssl": True, "api_version": "1.0"}
    assert AwsClientParameters(verify=True).get_params_override()["verify"] is True
    assert AwsClientParameters(verify=False).get_params_override()["verify"] is False
    assert AwsClientParameters(verify_cert_path=bundle).get_params_override()["verify"] == bundle


def test_verify_cert_path_reaches_the_client(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.touch()

    assert AwsClientParameters(verify_cert_path=bundle).client_kwargs()["verify"] == str(bundle)
    with pytest.raises(BlockValidationError, match=r"verify_cert_path.*nope\.pem"):
        AwsClientParameters(verify_cert_path=tmp_path / "nope.pem").client_kwargs()


def test_both_ca_bundle_spellings_warn_and_keep_the_one_that_applies(tmp_path):
    old, new = tmp_path / "old.pem", tmp_path / "new.pem"
    old.touch()
    new.touch()

    with pytest.warns(UserWarning, match="verify_cert_path is set but verify is False"):
        off = AwsClientParameters(verify=False, verify_cert_path=new)
    with pytest.warns(UserWarning, match="verify_cert_path is set but verify is also set"):
        both = AwsClientParameters(verify=old, verify_cert_path=new)

    assert (off.verify, off.verify_cert_path) == (False, None)
    assert (both.verify, both.client_kwargs()["verify"]) == (True, str(new))


def test_client_parameters_are_hashable_by_value():
    one = AwsClientParameters(config={"connect_timeout": 5, "retries": {"max_attempts": 2}})
    same = AwsClientParameters(config={"retries": {"max_attempts": 2}, "connect_timeout": 5})

    assert hash(one) == hash(same) != hash(AwsClientParameters())
