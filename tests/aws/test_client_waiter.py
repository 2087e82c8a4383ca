"""client_waiter / aclient_waiter against moto: boto3's own waiters and one defined inline."""

from __future__ import annotations

import asyncio

import pytest

from prefect_aws import AwsError
from prefect_aws.client_waiter import aclient_waiter, client_waiter

# A waiter on HeadBucket that succeeds on 200 and gives up after one try.
BUCKET_THERE = {"version": 2, "waiters": {"BucketThere": {
    "operation": "HeadBucket", "delay": 0, "maxAttempts": 1,
    "acceptors": [{"expected": 200, "matcher": "status", "state": "success"}]}}}


@pytest.fixture
def bucket(mocked_aws, aws_credentials):
    aws_credentials.get_s3_client().create_bucket(Bucket="raw")
    return "raw"


def test_a_boto3_waiter_returns_once_the_state_is_reached(bucket, aws_credentials):
    assert client_waiter("s3", "bucket_exists", aws_credentials, Bucket=bucket) is None


def test_a_defined_waiter(bucket, aws_credentials):
    client_waiter("s3", "BucketThere", aws_credentials, waiter_definition=BUCKET_THERE,
                  Bucket=bucket)


def test_a_waiter_that_gives_up_is_an_aws_error(mocked_aws, aws_credentials):
    with pytest.raises(AwsError, match="BucketThere"):
        client_waiter("s3", "BucketThere", aws_credentials, waiter_definition=BUCKET_THERE,
                      Bucket="absent")


def test_an_unknown_waiter_names_the_known_ones(mocked_aws, aws_credentials):
    with pytest.raises(ValueError, match=r"The waiter name, JobExists.*bucket_exists"):
        client_waiter("s3", "JobExists", aws_credentials)


def test_aclient_waiter(bucket, aws_credentials):
    asyncio.run(aclient_waiter("s3", "bucket_exists", aws_credentials, Bucket=bucket))
