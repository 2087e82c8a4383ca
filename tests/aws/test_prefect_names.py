"""Prefect's names for the S3 and Secrets Manager calls: the task aliases and their async
twins, the S3Bucket and AwsSecret `a*` methods, get/put_directory and the Secrets Manager
tasks (moto in process, and its server for the async tasks)."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from core_blocks import flow
from prefect_aws import AwsSecret, AwsSecretNotFound, S3Bucket, S3ObjectNotFound
from prefect_aws import s3 as s3_module
from prefect_aws.s3 import (
    acopy_objects,
    adownload_from_bucket,
    alist_objects,
    amove_objects,
    aupload_to_bucket,
    copy_objects,
    download_from_bucket,
    list_objects,
    move_objects,
    s3_copy,
    s3_download,
    s3_move,
    upload_to_bucket,
)
from prefect_aws.secrets_manager import create_secret, delete_secret, read_secret, update_secret


def _keys(creds, bucket):
    response = creds.get_s3_client().list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in response.get("Contents", []))


@pytest.fixture
def buckets(mocked_aws, aws_credentials):
    client = aws_credentials.get_s3_client()
    client.create_bucket(Bucket="raw")
    client.create_bucket(Bucket="archive")
    return aws_credentials


# -- S3 tasks ----------------------------------------------------------------------------------

def test_prefect_sync_names_are_our_tasks():
    assert (download_from_bucket, copy_objects, move_objects) == (s3_download, s3_copy, s3_move)


def test_upload_to_bucket_and_list_objects_take_prefect_argument_order(buckets):
    params = buckets.aws_client_parameters

    assert upload_to_bucket(b"hi", "raw", buckets, params, "a.txt") == "a.txt"
    assert [o["Key"] for o in list_objects("raw", buckets, params, "a")] == ["a.txt"]
    assert download_from_bucket("raw", "a.txt", buckets, params) == b"hi"


def test_async_twins_do_the_same_work(buckets):
    async def run():
        key = await aupload_to_bucket(b"data", "raw", buckets, key="in/a.csv")
        content = await adownload_from_bucket("raw", key, buckets)
        await acopy_objects("in/a.csv", "copy.csv", "raw", buckets, "archive")
        await amove_objects("in/a.csv", "done/a.csv", "raw", buckets)
        listed = await alist_objects("raw", buckets, prefix="done/")
        return content, [o["Key"] for o in listed]

    assert asyncio.run(run()) == (b"data", ["done/a.csv"])
    assert _keys(buckets, "archive") == ["copy.csv"]
    assert _keys(buckets, "raw") == ["done/a.csv"]


def test_async_tasks_are_coroutines_even_from_sync_code(buckets):
    call = adownload_from_bucket("raw", "x", buckets)  # explicit a*, never "sometimes awaitable"

    assert asyncio.iscoroutine(call)
    with pytest.raises(S3ObjectNotFound):
        asyncio.run(call)


def test_async_tasks_run_inside_an_async_flow_against_a_server(server_credentials):
    server_credentials.get_s3_client().create_bucket(Bucket="served")

    @flow
    async def nightly():
        await aupload_to_bucket(b"1", "served", server_credentials, key="one")
        await aupload_to_bucket(b"2", "served", server_credentials, key="two")
        return [o["Key"] for o in await alist_objects("served", server_credentials)]

    assert asyncio.run(nightly()) == ["one", "two"]


def test_every_listed_task_name_resolves():
    for name in s3_module._TASKS:
        assert callable(getattr(s3_module, name)), name


# -- S3Bucket ------------------------------------------------------------------------------------

def test_bucket_async_methods(s3_bucket, tmp_path):
    source = tmp_path / "export.csv"
    source.write_bytes(b"id\n1\n")

    async def run():
        await s3_bucket.awrite_path("a/b.txt", b"hello")
        await s3_bucket.aupload_from_path(source, "2026/export.csv")
        await s3_bucket.acopy_object("a/b.txt", "a/c.txt")
        await s3_bucket.amove_object("a/c.txt", "a/d.txt")
        await s3_bucket.adownload_object_to_path("2026/export.csv", tmp_path / "back.csv")
        await s3_bucket.adownload_folder_to_path("a", tmp_path / "folder")
        return await s3_bucket.aread_path("a/b.txt"), await s3_bucket.alist_objects()

    content, listed = asyncio.run(run())

    assert content == b"hello"
    assert listed == ["2026/export.csv", "a/b.txt", "a/d.txt"]
    assert (tmp_path / "back.csv").read_bytes() == b"id\n1\n"
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == ["b.txt", "d.txt"]


def test_async_method_keeps_name_and_errors(s3_bucket):
    assert S3Bucket.aread_path.__name__ == "aread_path"
    assert "read_path" in S3Bucket.aread_path.__doc__

    with pytest.raises(S3ObjectNotFound, match="missing.txt"):
        asyncio.run(s3_bucket.aread_path("missing.txt"))


def _tree(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_put_directory_then_get_directory(s3_bucket, tmp_path):
    source = tmp_path / "project"
    (source / "flows" / "sub").mkdir(parents=True)
    (source / "flows" / "etl.py").write_text("flow")
    (source / "flows" / "sub" / "x.py").write_text("x")
    (source / "README").write_text("r")

    assert s3_bucket.put_directory(source, "deploy") == 3
    assert s3_bucket.get_directory("deploy", tmp_path / "out") == (tmp_path / "out").resolve()
    assert _tree(tmp_path / "out") == ["README", "flows/etl.py", "flows/sub/x.py"]


def test_put_directory_leaves_out_what_the_ignore_file_matches(s3_bucket, tmp_path):
    source = tmp_path / "project"
    (source / "build").mkdir(parents=True)
    (source / "build" / "out.bin").write_text("b")
    (source / "a.py").write_text("a")
    (source / "a.pyc").write_text("c")
    (source / "keep.pyc").write_text("k")
    ignore = tmp_path / ".prefectignore"
    ignore.write_text("# generated\n*.pyc\nbuild/\n!keep.pyc\n")

    assert s3_bucket.put_directory(source, ignore_file=ignore) == 2
    assert s3_bucket.list_objects() == ["a.py", "keep.pyc"]


def test_directories_default_to_the_working_directory(s3_bucket, tmp_path, monkeypatch):
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "f.txt").write_text("f")
    monkeypatch.chdir(tmp_path / "up")
    assert s3_bucket.put_directory() == 1

    (tmp_path / "down").mkdir()
    monkeypatch.chdir(tmp_path / "down")
    asyncio.run(s3_bucket.aget_directory())
    assert (tmp_path / "down" / "f.txt").read_text() == "f"


def test_put_directory_names_a_missing_ignore_file(s3_bucket, tmp_path):
    with pytest.raises(FileNotFoundError, match="ignore file"):
        s3_bucket.put_directory(tmp_path, ignore_file=tmp_path / "nope")


# -- Secrets Manager -------------------------------------------------------------------------------

@pytest.fixture
def secret(mocked_aws, aws_credentials):
    return AwsSecret(secret_name="warehouse/password", aws_credentials=aws_credentials)


def test_secret_async_methods(secret):
    async def run():
        arn = await secret.awrite_secret(b"\x00key")
        value = await secret.aread_secret()
        return arn, value, await secret.adelete_secret(force_delete_without_recovery=True)

    arn, value, deleted = asyncio.run(run())

    assert value == b"\x00key" and deleted == arn
    with pytest.raises(AwsSecretNotFound):
        secret.read_secret()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"recovery_window_in_days": 42}, "Recovery window must be between 7 and 30 days, got 42"),
    ({"recovery_window_in_days": 10, "force_delete_without_recovery": True},
     "Cannot specify recovery window and force delete without recovery"),
])
def test_secret_deletion_arguments_are_checked_first(secret, kwargs, message):
    with pytest.raises(ValueError, match=message):
        secret.delete_secret(**kwargs)  # nothing was written: a call to AWS would fail


def test_secret_read_kwargs_reach_aws(secret):
    secret.write_secret("v1")
    with pytest.raises(AwsSecretNotFound):
        secret.read_secret(VersionId="0" * 32)


def test_secret_tasks_create_read_update_delete(mocked_aws, aws_credentials):
    @flow
    async def lifecycle():
        created = await create_secret("db", "one", aws_credentials, description="d")
        first = await read_secret("db", aws_credentials)
        updated = await update_secret("db", b"two", aws_credentials)
        second = await read_secret("db", aws_credentials)
        deleted = await delete_secret("db", aws_credentials, recovery_window_in_days=7)
        return created, first, updated, second, deleted

    created, first, updated, second, deleted = asyncio.run(lifecycle())

    assert created["Name"] == "db" and "ResponseMetadata" not in created
    assert (first, second) == ("one", b"two")
    assert updated["ARN"] == created["ARN"]
    in_a_week = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(7)
    assert deleted["DeletionDate"].astimezone(datetime.timezone.utc).date() == in_a_week


def test_delete_secret_task_with_force_ignores_the_window(mocked_aws, aws_credentials):
    create_secret("gone", "x", aws_credentials)  # sync code: the value, by Prefect 3's rule

    deleted = delete_secret("gone", aws_credentials, 15, True)

    assert deleted["Name"] == "gone"


@pytest.mark.parametrize(("call", "error"), [
    (lambda c: delete_secret("s", c, recovery_window_in_days=3), ValueError),
    (lambda c: create_secret("s", {"a": 1}, c), ValueError),
    (lambda c: update_secret("s", "", c), ValueError),
])
def test_secret_tasks_check_arguments_before_calling_aws(mocked_aws, aws_credentials, call,
                                                        error):
    # There is no secret "s": a call that reached AWS would raise AwsSecretNotFound instead.
    with pytest.raises(error):
        call(aws_credentials)
    assert aws_credentials.get_client("secretsmanager").list_secrets()["SecretList"] == []


def test_uploading_an_empty_folder_warns(s3_bucket, tmp_path, caplog):
    with caplog.at_level("WARNING", logger="prefect_aws"):
        s3_bucket.upload_from_folder(tmp_path)

    assert f"No files were uploaded from {tmp_path}" in caplog.text
    assert s3_bucket.list_objects() == []


def test_downloads_default_to_the_working_directory(s3_bucket, tmp_path, monkeypatch):
    s3_bucket.write_path("in/report.csv", b"r")
    monkeypatch.chdir(tmp_path)

    assert s3_bucket.download_object_to_path("in/report.csv").resolve() == tmp_path / "report.csv"
    s3_bucket.download_folder_to_path("in")

    assert (tmp_path / "report.csv").read_bytes() == b"r"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]
