"""Prefect 3's sync-or-async rule on prefect_aws: the same lines give values in a sync flow and
awaitables in an async one (S3Bucket, AwsSecret, the S3 and Secrets Manager tasks), against
the moto server."""

from __future__ import annotations

import asyncio

import pytest

from core_blocks import flow, task
from core_blocks.dispatch import Dispatched
from prefect_aws import AwsSecret, S3Bucket
from prefect_aws.s3 import download_from_bucket, list_objects, s3_download, s3_upload
from prefect_aws.secrets_manager import create_secret, delete_secret, read_secret

BUCKET_METHODS = ("read_path", "write_path", "list_objects", "upload_from_path",
                  "download_object_to_path", "upload_from_file_object",
                  "download_object_to_file_object", "upload_from_folder",
                  "download_folder_to_path", "copy_object", "move_object", "delete_object",
                  "delete_objects", "stream_from", "get_directory", "put_directory")


@pytest.fixture
def saved_bucket(server_bucket):
    server_bucket.save("raw")
    return server_bucket


def test_sync_flow_gets_values(saved_bucket):
    @flow
    def nightly():
        bucket = S3Bucket.load("raw")
        bucket.write_path("a.txt", b"one")
        key = s3_upload(b"two", bucket.bucket_name, bucket.credentials, key="b.txt")
        return (bucket.read_path("a.txt"), s3_download(bucket.bucket_name, key,
                                                       bucket.credentials),
                [o["Key"] for o in list_objects(bucket.bucket_name, bucket.credentials)])

    assert nightly() == (b"one", b"two", ["a.txt", "b.txt"])


def test_async_flow_awaits_the_same_names(saved_bucket):
    @flow
    async def nightly():
        bucket = await S3Bucket.load("raw")
        await bucket.write_path("a.txt", b"one")
        key = await s3_upload(b"two", bucket.bucket_name, bucket.credentials, key="b.txt")
        listed = await list_objects(bucket.bucket_name, bucket.credentials)
        return (await bucket.read_path("a.txt"),
                await download_from_bucket(bucket.bucket_name, key, bucket.credentials),
                await bucket.read_path.aio("b.txt"), [o["Key"] for o in listed])

    assert asyncio.run(nightly()) == (b"one", b"two", b"two", ["a.txt", "b.txt"])


def test_sync_task_in_an_async_flow_and_async_task_in_a_sync_flow(saved_bucket):
    @task
    def read_sync():
        return S3Bucket.load("raw").read_path("a.txt")

    @task
    async def read_async():
        return await (await S3Bucket.load("raw")).read_path("a.txt")

    @flow
    async def async_flow():
        await (await S3Bucket.load("raw")).write_path("a.txt", b"hi")
        return read_sync(), read_sync.submit().result()

    @flow
    def sync_flow():
        return read_async.submit().result()

    assert asyncio.run(async_flow()) == (b"hi", b"hi")
    assert sync_flow() == b"hi"


def test_aws_secret_and_secret_tasks(server_credentials):
    secret = AwsSecret(secret_name="warehouse", aws_credentials=server_credentials)

    @flow
    async def async_flow():
        await create_secret("api", "k1", server_credentials)
        await secret.write_secret("p1")
        return (await secret.read_secret(), await read_secret("api", server_credentials),
                secret.read_secret(_sync=True))

    @flow
    def sync_flow():
        secret.write_secret("p2")
        value = secret.read_secret(), read_secret("api", server_credentials), secret.get()
        delete_secret("api", server_credentials, force_delete_without_recovery=True)
        return value

    assert asyncio.run(async_flow()) == ("p1", "k1", "p1")
    assert sync_flow() == ("p2", "k1", "p2")


def test_secret_get_gives_the_value_even_in_async_code(server_credentials):
    secret = AwsSecret(secret_name="warehouse", aws_credentials=server_credentials)
    secret.write_secret("p3")

    async def main():
        return secret.get()  # SecretBlock.get is sync in Prefect too

    assert asyncio.run(main()) == "p3"


@pytest.mark.parametrize("name", BUCKET_METHODS)
def test_every_bucket_method_follows_the_rule(name):
    method = S3Bucket.__dict__[name]

    assert isinstance(method, Dispatched)
    assert S3Bucket.__dict__[f"a{name}"] is method.aio
