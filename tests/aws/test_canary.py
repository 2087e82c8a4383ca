"""A canary session token, secret key and Secrets Manager value must never reach the logs,
even with every logger at DEBUG, where botocore prints request headers and bodies."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from core_blocks import Secret
from core_blocks.testing import reset_state
from prefect_aws import AwsCredentials, S3Bucket
from prefect_aws.log_masking import MASK, mask
from tests.aws.conftest import REGION


@pytest.fixture
def debug_logs(caplog):
    """Every logger at DEBUG, botocore's included."""
    caplog.set_level(logging.DEBUG)
    return caplog


def test_session_token_and_secret_key_never_reach_botocore_logs(mocked_aws, canary,
                                                                debug_logs, tmp_path):
    creds = AwsCredentials(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=canary,
                           aws_session_token=f"{canary}-token/+=", region_name=REGION)
    client = creds.get_s3_client()
    client.create_bucket(Bucket="canary-bucket")
    bucket = S3Bucket(bucket_name="canary-bucket", credentials=creds)
    bucket.write_path("a.txt", b"hello")
    assert bucket.read_path("a.txt") == b"hello"
    bucket.list_objects()
    url = client.generate_presigned_url("get_object",
                                        Params={"Bucket": "canary-bucket", "Key": "a.txt"})
    assert quote(f"{canary}-token/+=", safe="") in url  # the token really is in the URL
    logging.getLogger("botocore.endpoint").debug("Fetching %s", url)

    botocore = [r for r in debug_logs.records if r.name.startswith("botocore")]
    assert any("X-Amz-Security-Token" in r.getMessage() for r in botocore)  # it was logged
    assert f"x-amz-security-token:{MASK}" in debug_logs.text
    assert canary not in debug_logs.text
    for record in debug_logs.records:
        assert canary not in record.getMessage() + repr(record.args)


def test_secrets_manager_values_never_reach_botocore_logs(mocked_aws, monkeypatch, canary,
                                                          debug_logs):
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "aws-secrets-manager")
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_REGION", REGION)
    reset_state()
    Secret(value=canary).save("prod-db")
    assert Secret.load("prod-db").get() == canary
    Secret.delete("prod-db")
    reset_state()

    assert any("SecretString" in r.getMessage() for r in debug_logs.records)
    assert canary not in debug_logs.text


@pytest.mark.parametrize("text, expected", [
    ("x-amz-security-token:FQoGZXIvYXdz+/=\nhost:s3", f"x-amz-security-token:{MASK}\nhost:s3"),
    ("{'X-Amz-Security-Token': b'FQoGZXIv+/='}", f"{{'X-Amz-Security-Token': b'{MASK}'}}"),
    ("?X-Amz-Security-Token=FQo%2BGZ%3D&X-Amz-Expires=3600",
     f"?X-Amz-Security-Token={MASK}&X-Amz-Expires=3600"),
    ('b\'{"SecretId": "a", "SecretString": "{\\\\"value\\\\": \\\\"s3cr\\\\\\"t\\\\"}"}\'',
     f'b\'{{"SecretId": "a", "SecretString": "{MASK}"}}\''),
    *[(plain, plain) for plain in ["Response body: b'{\"Name\": \"core-blocks/x\"}'"]],
], ids=["canonical-request", "header-dict", "presigned-query", "secrets-manager-body", "plain"])
def test_mask_hides_tokens_and_secret_values_only(text, expected):
    assert mask(text) == expected
