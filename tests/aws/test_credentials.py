"""AwsCredentials and MinIOCredentials: sessions, clients, boto3's default chain, secrets kept."""

from __future__ import annotations

import pytest

from core_blocks.errors import BlockValidationError
from prefect_aws import (
    AwsClientParameters,
    AwsCredentials,
    AwsCredentialsError,
    AwsError,
    MinIOCredentials,
    S3Bucket,
)


def test_keys_given_are_the_keys_used():
    session = AwsCredentials(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="sekrit",
                             aws_session_token="tok", region_name="eu-west-1"
                             ).get_boto3_session()

    frozen = session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("AKIDEXAMPLE", "sekrit", "tok")
    assert session.region_name == "eu-west-1"


def test_no_keys_falls_back_to_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")

    frozen = AwsCredentials().get_boto3_session().get_credentials().get_frozen_credentials()

    assert (frozen.access_key, frozen.secret_key) == ("AKIDFROMENV", "from-env")


def test_profile_comes_from_the_shared_config_files(monkeypatch, tmp_path):
    config = tmp_path / "credentials"
    config.write_text("[etl]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = p\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    session = AwsCredentials(profile_name="etl").get_boto3_session()

    assert session.get_credentials().access_key == "AKIDPROFILE"


def test_unknown_profile_is_named():
    with pytest.raises(AwsCredentialsError, match="'nightly'.*profile_name"):
        AwsCredentials(profile_name="nightly").get_boto3_session()


def test_no_credentials_anywhere_says_where_to_put_them(monkeypatch, mocked_aws):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    bucket = S3Bucket(bucket_name="anything", credentials=AwsCredentials())

    with pytest.raises(AwsCredentialsError, match="No AWS credentials found"):
        bucket.list_objects()


def test_access_key_without_secret_key_is_refused():
    with pytest.raises(BlockValidationError, match="aws_secret_access_key"):
        AwsCredentials(aws_access_key_id="AKIDEXAMPLE")


def test_clients_work_and_are_reused(mocked_aws, aws_credentials):
    s3 = aws_credentials.get_s3_client()
    s3.create_bucket(Bucket="reused")

    assert aws_credentials.get_client("s3") is s3
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["reused"]
    assert aws_credentials.get_client("secretsmanager").meta.service_model.service_name == \
        "secretsmanager"


def test_a_changed_field_gives_a_new_client(mocked_aws, aws_credentials):
    first = aws_credentials.get_s3_client()
    aws_credentials.region_name = "eu-west-1"

    second = aws_credentials.get_s3_client()

    assert second is not first
    assert second.meta.region_name == "eu-west-1"


def test_client_parameters_can_be_overridden_per_call(aws_credentials):
    other = AwsClientParameters(endpoint_url="http://127.0.0.1:9")

    assert aws_credentials.get_s3_client(other).meta.endpoint_url == "http://127.0.0.1:9"
    assert aws_credentials.get_s3_client().meta.endpoint_url != "http://127.0.0.1:9"


def test_secrets_stay_out_of_repr_and_store(canary, block_home):
    creds = AwsCredentials(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=canary,
                           aws_session_token=canary + "-token")

    creds.save("prod")

    assert canary not in repr(creds) and canary not in str(creds.model_dump())
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()
    loaded = AwsCredentials.load("prod")
    assert loaded.aws_secret_access_key.get_secret_value() == canary
    assert loaded.aws_session_token.get_secret_value() == canary + "-token"


def test_minio_credentials_sign_with_root_user(mocked_aws, canary, block_home):
    creds = MinIOCredentials(minio_root_user="minio", minio_root_password=canary,
                             region_name="us-east-1")
    creds.save("local-minio")

    loaded = MinIOCredentials.load("local-minio")
    frozen = loaded.get_boto3_session().get_credentials().get_frozen_credentials()

    assert (frozen.access_key, frozen.secret_key) == ("minio", canary)
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()
    loaded.get_s3_client().create_bucket(Bucket="on-minio")
    assert loaded.get_s3_client().list_buckets()["Buckets"][0]["Name"] == "on-minio"


def test_minio_needs_its_password():
    with pytest.raises(BlockValidationError, match="minio_root_password"):
        MinIOCredentials(minio_root_user="minio")


def test_nested_client_parameters_round_trip(block_home):
    AwsCredentials(region_name="us-east-1",
                   aws_client_parameters=AwsClientParameters(endpoint_url="http://127.0.0.1:9")
                   ).save("local")

    loaded = AwsCredentials.load("local")

    assert loaded.aws_client_parameters.endpoint_url == "http://127.0.0.1:9"


def test_clients_of_several_services_are_kept_together(mocked_aws, aws_credentials):
    s3 = aws_credentials.get_s3_client()
    secrets = aws_credentials.get_client("secretsmanager")

    assert aws_credentials.get_s3_client() is s3
    assert aws_credentials.get_client("secretsmanager") is secrets


# -- Prefect's names: ClientType, hashing, assumed roles ----------------------------------------

def test_get_client_takes_a_client_type(mocked_aws, aws_credentials):
    from prefect_aws.credentials import ClientType

    assert aws_credentials.get_client(ClientType.S3) is aws_credentials.get_client("s3")
    assert (aws_credentials.get_client(ClientType.SECRETS_MANAGER)
            is aws_credentials.get_secrets_manager_client())
    assert aws_credentials.get_client(ClientType.ECS).meta.service_model.service_name == "ecs"


def test_credentials_hash_by_value_and_change_with_a_field():
    creds = AwsCredentials(region_name="us-east-1", assume_role_kwargs={
        "Tags": [{"Key": "team", "Value": "data"}]})
    before = hash(creds)

    assert hash(AwsCredentials(region_name="us-east-1", assume_role_kwargs={
        "Tags": [{"Key": "team", "Value": "data"}]})) == before
    creds.region_name = "us-west-2"
    assert hash(creds) != before
    assert hash(MinIOCredentials(minio_root_user="u", minio_root_password="p")) != hash(
        MinIOCredentials(minio_root_user="u", minio_root_password="q"))


ROLE = "arn:aws:iam::123456789012:role/reader"


def test_assumed_role_gives_temporary_credentials(mocked_aws, aws_credentials):
    creds = aws_credentials.model_copy(update={"assume_role_arn": ROLE, "assume_role_kwargs": {
        "RoleSessionName": "nightly", "DurationSeconds": 900}})

    session = creds.get_boto3_session()
    frozen = session.get_credentials().get_frozen_credentials()

    assert frozen.access_key.startswith("ASIA") and frozen.token
    assert session.region_name == "us-east-1"
    identity = session.client("sts").get_caller_identity()
    assert identity["Arn"].endswith(":assumed-role/reader/nightly")


def test_assumed_role_gets_a_default_session_name(mocked_aws, aws_credentials):
    creds = aws_credentials.model_copy(update={"assume_role_arn": ROLE})

    arn = creds.get_client("sts").get_caller_identity()["Arn"]

    assert ":assumed-role/reader/prefect-session-" in arn  # what Prefect's trust policies expect


def test_a_client_on_an_assumed_role_is_renewed_before_it_expires(mocked_aws, aws_credentials,
                                                                monkeypatch):
    import time

    creds = aws_credentials.model_copy(update={"assume_role_arn": ROLE, "assume_role_kwargs": {
        "DurationSeconds": 900}})
    first = creds.get_s3_client()
    assert creds.get_s3_client() is first
    later = time.time() + 900 - 60  # a minute before the role's credentials expire
    monkeypatch.setattr(time, "time", lambda: later)

    assert creds.get_s3_client() is not first


def test_assume_role_kwargs_are_checked():
    with pytest.raises(BlockValidationError, match="'RoleArn' is not an AssumeRole parameter "
                                                   "here; set the role in assume_role_arn"):
        AwsCredentials(assume_role_kwargs={"RoleArn": ROLE})
    with pytest.raises(BlockValidationError, match="'Duration' is not an AssumeRole parameter"):
        AwsCredentials(assume_role_kwargs={"Duration": 900})
    with pytest.raises(BlockValidationError, match="assume_role_arn"):
        AwsCredentials(assume_role_arn="reader")


def test_a_refused_role_is_named(mocked_aws, aws_credentials):
    from unittest import mock

    from botocore.exceptions import ClientError

    creds = aws_credentials.model_copy(update={"assume_role_arn": ROLE})
    refusal = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}, "AssumeRole")
    # moto trusts every role: the refusal comes from botocore's stubbing point instead.
    refused = pytest.raises(AwsCredentialsError, match=f"Could not assume the role '{ROLE}'")
    with mock.patch("botocore.client.BaseClient._make_api_call", side_effect=refusal), \
            refused as caught:
        creds.get_boto3_session()
    assert isinstance(caught.value, ClientError)


def test_the_boto3_module_is_reachable_for_patching_without_an_import_cost():
    import subprocess
    import sys

    code = ("import sys, prefect_aws.credentials as c; assert 'boto3' not in sys.modules; "
            "assert c.boto3.Session; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_building_a_client_leaves_the_config_options_unchanged(aws_credentials):
    creds = aws_credentials.model_copy(update={"aws_client_parameters": AwsClientParameters(
        config={"retries": {"max_attempts": 10, "mode": "standard"}})})

    client = creds.get_s3_client()

    assert creds.aws_client_parameters.config == {
        "retries": {"max_attempts": 10, "mode": "standard"}}
    assert creds.get_s3_client() is client


def test_an_assume_role_call_in_flight_holds_up_no_other_client(aws_env, monkeypatch):
    """While one block waits on STS (an endpoint that takes the request and never answers),
    another block's client is built at once: the client-build lock is not held across it."""
    import socket
    import threading
    import time

    silent = socket.create_server(("127.0.0.1", 0))
    silent.settimeout(10)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{silent.getsockname()[1]}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    outcome: dict = {}

    def build_on_the_role():
        try:
            AwsCredentials(region_name="us-east-1", assume_role_arn=ROLE).get_s3_client()
        except AwsError as exc:
            outcome["error"] = exc

    waiting = threading.Thread(target=build_on_the_role)
    waiting.start()
    connection, _ = silent.accept()  # the AssumeRole request is on its way
    try:
        started = time.monotonic()
        other = AwsCredentials(region_name="us-east-1").get_s3_client()
        took = time.monotonic() - started
    finally:
        connection.close()  # the role's call now fails (one attempt)
        silent.close()
        waiting.join(timeout=30)

    assert other.meta.service_model.service_name == "s3"
    assert took < 2.0, f"a plain client waited {took:.1f} s on another block's STS call"
    assert not waiting.is_alive() and "Could not assume the role" in str(outcome["error"])


def test_the_client_cache_counts_as_prefects_get_client_cached(mocked_aws, aws_credentials):
    from prefect_aws.credentials import _get_client_cached

    _get_client_cached.cache_clear()
    first = aws_credentials.get_client("s3")
    assert aws_credentials.get_client("s3") is first is aws_credentials.get_s3_client()
    assert _get_client_cached.cache_info()[:2] == (2, 1)
    aws_credentials.region_name = "eu-west-1"
    second = aws_credentials.get_client("s3")
    assert second is not first and _get_client_cached.cache_info().misses == 2

    _get_client_cached.cache_clear()
    assert _get_client_cached.cache_info()[:2] == (0, 0)
    assert aws_credentials.get_client("s3") is not second  # cleared: built again
