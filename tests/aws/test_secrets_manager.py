"""AwsSecret against Secrets Manager (moto in process)."""

from __future__ import annotations

import json

import pytest

from prefect_aws import AwsError, AwsSecret, AwsSecretNotFound


@pytest.fixture
def secret(mocked_aws, aws_credentials):
    return AwsSecret(secret_name="warehouse/password", aws_credentials=aws_credentials)


def test_write_creates_then_updates(secret):
    arn = secret.write_secret("first", Description="the warehouse password")

    assert secret.write_secret("second") == arn
    assert secret.read_secret() == "second"
    assert secret.get() == "second"
    client = secret.aws_credentials.get_client("secretsmanager")
    assert client.describe_secret(SecretId=arn)["Description"] == "the warehouse password"


def test_bytes_come_back_as_bytes(secret):
    secret.write_secret(b"\x00\xffkey")

    assert secret.read_secret() == b"\x00\xffkey"


def test_earlier_versions_can_be_read(secret):
    secret.write_secret("v1")
    client = secret.aws_credentials.get_client("secretsmanager")
    first = client.list_secret_version_ids(SecretId="warehouse/password")["Versions"][0]
    secret.write_secret("v2")

    assert secret.read_secret(version_id=first["VersionId"]) == "v1"
    assert secret.read_secret(version_stage="AWSPREVIOUS") == "v1"


def test_missing_secret_is_named(secret):
    with pytest.raises(AwsSecretNotFound, match="No secret 'warehouse/password'"):
        secret.read_secret()


def test_delete_with_a_recovery_window(secret):
    arn = secret.write_secret("x")

    assert secret.delete_secret(recovery_window_in_days=7) == arn
    client = secret.aws_credentials.get_client("secretsmanager")
    assert "DeletedDate" in client.describe_secret(SecretId=arn)
    with pytest.raises(AwsSecretNotFound, match="scheduled for deletion"):
        secret.read_secret()


def test_force_delete_removes_it_at_once(secret):
    secret.write_secret("x")

    secret.delete_secret(force_delete_without_recovery=True)

    with pytest.raises(AwsSecretNotFound, match="No secret"):
        secret.read_secret()
    secret.write_secret("again")  # the name is free again
    assert secret.read_secret() == "again"


@pytest.mark.parametrize("days", [0, 6, 31])
def test_recovery_window_must_be_7_to_30_days(secret, days):
    with pytest.raises(ValueError, match="7 to 30"):
        secret.delete_secret(recovery_window_in_days=days)


def test_delete_of_a_missing_secret_is_named(secret):
    with pytest.raises(AwsSecretNotFound, match="'warehouse/password'"):
        secret.delete_secret()
    secret.delete_secret(force_delete_without_recovery=True)  # as in AWS: no error then


def test_saved_block_reads_the_value_from_aws(secret, block_home, canary):
    secret.write_secret(canary)
    secret.save("warehouse")

    assert AwsSecret.load("warehouse").read_secret() == canary
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()


@pytest.mark.parametrize("value", [bytearray(b"\x00\xffkey"), memoryview(b"\x00\xffkey")])
def test_bytearray_and_memoryview_are_binary(secret, value):
    secret.write_secret(value)

    assert secret.read_secret() == b"\x00\xffkey"


@pytest.mark.parametrize("value", [{"user": "etl", "password": "hunter2"}, ["a", 1, None]])
def test_dicts_and_lists_are_stored_as_json_text(secret, value):
    secret.write_secret(value)

    stored = secret.read_secret()
    assert isinstance(stored, str) and json.loads(stored) == value


@pytest.mark.parametrize(("value", "named"), [
    (12345, "int"), (("tuple", "value"), "tuple"), ({"set-value"}, "set"), (None, "NoneType"),
])
def test_other_types_are_refused_naming_the_type_only(secret, value, named):
    with pytest.raises(TypeError) as caught:
        secret.write_secret(value)

    assert str(caught.value) == ("write_secret takes str, bytes, or a dict or list (stored as "
                                 f"JSON), not {named}.")
    assert value is None or str(value) not in str(caught.value)


def test_unserialisable_dicts_are_refused_without_the_value(secret, canary):
    with pytest.raises(TypeError, match="not JSON-serialisable") as caught:
        secret.write_secret({"key": canary, "when": object()})

    assert canary not in str(caught.value)


@pytest.mark.parametrize("empty", ["", b"", bytearray()])
def test_empty_values_are_refused(secret, empty):
    with pytest.raises(ValueError, match="empty value"):
        secret.write_secret(empty)


def test_parameter_errors_never_quote_the_value(secret, canary):
    """botocore's ParamValidationError quotes the bad value; it must not get through."""
    with pytest.raises(AwsError) as caught:
        secret.write_secret("x", Description={"leaked": canary})

    assert str(caught.value) == (
        "Invalid request parameters for secret 'warehouse/password': Description (invalid "
        "type). Values are not shown; check the types and lengths of the arguments passed.")
    error: BaseException | None = caught.value
    while error is not None:
        assert canary not in str(error) and canary not in repr(error.args)
        error = error.__cause__ or error.__context__
