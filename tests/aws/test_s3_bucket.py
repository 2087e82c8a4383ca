"""S3Bucket: the ObjectStorageBlock contract (in-process mock and moto's server) and the rest."""

from __future__ import annotations

import io
import urllib.request

import pytest

from core_blocks.errors import BlockValidationError, StoragePathError
from core_blocks.testing.contracts import ObjectStorageContract
from prefect_aws import (
    AwsClientParameters,
    AwsCredentials,
    AwsCredentialsError,
    AwsEndpointError,
    AwsError,
    LocalPathNotFound,
    S3Bucket,
    S3BucketNotFound,
    S3ObjectNotFound,
)
from prefect_aws.objects import delete_objects
from tests.aws.conftest import closed_port
from tests.aws.flaky_endpoint import FlakyEndpoint


class TestS3BucketInProcess(ObjectStorageContract):
    @pytest.fixture
    def storage(self, s3_bucket):
        return s3_bucket


class TestS3BucketOnServer(ObjectStorageContract):
    @pytest.fixture
    def storage(self, server_bucket):
        return server_bucket


class TestS3BucketInAFolder(ObjectStorageContract):
    @pytest.fixture
    def storage(self, s3_bucket):
        return s3_bucket.model_copy(update={"bucket_folder": "team/raw"})


def _keys(bucket: S3Bucket) -> list[str]:
    response = bucket.credentials.get_s3_client().list_objects_v2(Bucket=bucket.bucket_name)
    return [o["Key"] for o in response.get("Contents", [])]


# -- paths -----------------------------------------------------------------------------------


def test_bucket_folder_prefixes_every_key(s3_bucket):
    folder = S3Bucket(bucket_name="test-bucket", credentials=s3_bucket.credentials,
                      bucket_folder="/team/raw/")

    assert folder.write_path("a/b.txt", b"x") == "a/b.txt"
    assert _keys(s3_bucket) == ["team/raw/a/b.txt"]
    assert folder.list_objects() == ["a/b.txt"]


def test_dot_segments_are_resolved_inside_the_folder(s3_bucket):
    assert s3_bucket.write_path("a/./b/../c.txt", b"x") == "a/c.txt"
    assert _keys(s3_bucket) == ["a/c.txt"]


@pytest.mark.parametrize("bad", ["../x", "a/../../x", ".."])
def test_escaping_paths_are_refused_before_any_request(bad):
    bucket = S3Bucket(bucket_name="never-called", bucket_folder="base")

    with pytest.raises(StoragePathError, match="escapes the s3-bucket folder 'never-called/base'"):
        bucket.read_path(bad)


@pytest.mark.parametrize("empty", ["", ".", "./", "a/..", "a/./b/../.."])
def test_paths_naming_no_object_are_refused(s3_bucket, tmp_path, empty):
    folder = s3_bucket.model_copy(update={"bucket_folder": "exports"})
    other = S3Bucket(bucket_name="test-bucket", credentials=s3_bucket.credentials)
    calls = {
        "read_path": lambda b: b.read_path(empty),
        "write_path": lambda b: b.write_path(empty, b"x"),
        "delete_object": lambda b: b.delete_object(empty),
        "delete_objects": lambda b: b.delete_objects(["ok.txt", empty]),
        "download_object_to_path": lambda b: b.download_object_to_path(empty, tmp_path / "o"),
        "download_object_to_file_object": lambda b: b.download_object_to_file_object(
            empty, io.BytesIO()),
        "upload_from_file_object": lambda b: b.upload_from_file_object(io.BytesIO(b"x"), empty),
        "copy_object from": lambda b: b.copy_object(empty, "c.txt"),
        "copy_object to": lambda b: b.copy_object("ok.txt", empty),
        "copy_object to a bucket name": lambda b: b.copy_object("ok.txt", empty,
                                                               to_bucket="test-bucket"),
        "move_object": lambda b: b.move_object("ok.txt", empty, to_bucket=other),
        "stream_from": lambda b: b.stream_from(other, empty),
    }
    for bucket, location in ((s3_bucket, "test-bucket"), (folder, "test-bucket/exports")):
        bucket.write_path("ok.txt", b"ok")
        for name, call in calls.items():
            if name == "copy_object to a bucket name" and empty != "":
                continue  # a bucket name takes the full key, dots and all
            with pytest.raises(StoragePathError, match="names no object") as caught:
                call(bucket)
            assert repr(empty) in str(caught.value), name
            if name in ("move_object", "stream_from"):  # the path is other's, at the root
                assert "folder 'test-bucket' itself" in str(caught.value)
            elif name != "copy_object to a bucket name":
                assert f"folder {location!r} itself" in str(caught.value), name

    assert sorted(_keys(s3_bucket)) == ["exports/ok.txt", "ok.txt"]  # no folder key written


def test_write_path_dot_in_a_folder_does_not_write_the_folder_key(s3_bucket):
    folder = s3_bucket.model_copy(update={"bucket_folder": "exports"})

    with pytest.raises(StoragePathError, match=r"Path '\.' names no object.*'test-bucket/exports'"):
        folder.write_path(".", b"x")

    assert _keys(s3_bucket) == []


def test_upload_from_path_without_a_target_uses_the_file_name(s3_bucket, tmp_path):
    (tmp_path / "export.csv").write_text("id\n")

    assert s3_bucket.upload_from_path(tmp_path / "export.csv") == "export.csv"
    with pytest.raises(StoragePathError, match="names no object"):
        s3_bucket.upload_from_path(tmp_path / "export.csv", "")


@pytest.mark.parametrize(("field", "value"), [
    ("bucket_folder", "a/../../b"), ("bucket_name", "raw/data"), ("multipart_chunksize", 1024),
    ("multipart_threshold", 0), ("max_concurrency", 0),
])
def test_bad_fields_are_named(field, value):
    with pytest.raises(BlockValidationError, match=field):
        S3Bucket(**{"bucket_name": "raw", field: value})


# -- listing ---------------------------------------------------------------------------------


@pytest.fixture
def filled(s3_bucket):
    for path in ("x/1.txt", "x/2.txt", "x/y/3.txt", "z.txt"):
        s3_bucket.write_path(path, path.encode())
    return s3_bucket


def test_delimiter_lists_one_level(filled):
    assert filled.list_objects("x", delimiter="/") == ["x/1.txt", "x/2.txt", "x/y/"]
    assert filled.list_objects(delimiter="/") == ["x/", "z.txt"]


def test_page_size_and_max_items(filled):
    assert filled.list_objects(page_size=1) == ["x/1.txt", "x/2.txt", "x/y/3.txt", "z.txt"]
    assert filled.list_objects(max_items=2) == ["x/1.txt", "x/2.txt"]


def test_jmespath_query_picks_from_each_page(filled):
    assert filled.list_objects("x", jmespath_query="Contents[?Size > `7`].Key") == ["x/y/3.txt"]
    assert filled.list_objects(page_size=1, jmespath_query="KeyCount") == [1, 1, 1, 1]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"page_size": 0}, "page_size"), ({"max_items": "2"}, "max_items"),
    ({"jmespath_query": "Contents[?"}, "not a valid JMESPath"),
])
def test_bad_listing_options_are_named(filled, kwargs, message):
    with pytest.raises(ValueError, match=message):
        filled.list_objects(**kwargs)


def test_listing_a_missing_folder_is_empty(filled):
    assert filled.list_objects("nothing-here") == []


# -- copy, move, delete, stream ---------------------------------------------------------------


def test_copy_object_within_and_across_buckets(filled):
    other = S3Bucket(bucket_name="other-bucket", credentials=filled.credentials,
                     bucket_folder="in")
    filled.credentials.get_s3_client().create_bucket(Bucket="other-bucket")

    assert filled.copy_object("z.txt", "copies/z.txt") == "copies/z.txt"
    assert filled.copy_object("z.txt", "z2.txt", to_bucket=other) == "z2.txt"
    assert filled.copy_object("z.txt", "raw-key.txt", to_bucket="other-bucket") == "raw-key.txt"

    assert filled.read_path("copies/z.txt") == b"z.txt"
    assert _keys(other) == ["in/z2.txt", "raw-key.txt"]


def test_copy_passes_extra_args(filled):
    filled.copy_object("z.txt", "cold.txt", StorageClass="STANDARD_IA")

    head = filled.credentials.get_s3_client().head_object(Bucket="test-bucket", Key="cold.txt")
    assert head["StorageClass"] == "STANDARD_IA"


def test_move_object_removes_the_source(filled):
    assert filled.move_object("x/1.txt", "done/1.txt") == "done/1.txt"

    assert "x/1.txt" not in filled.list_objects()
    assert filled.read_path("done/1.txt") == b"x/1.txt"


def test_move_onto_itself_keeps_the_object(filled):
    filled.move_object("z.txt", "./z.txt")

    assert filled.read_path("z.txt") == b"z.txt"


def test_copy_of_a_missing_object_names_it(filled):
    with pytest.raises(S3ObjectNotFound, match="'ghost.txt'"):
        filled.copy_object("ghost.txt", "b.txt")


def test_copy_to_a_missing_bucket_names_that_bucket(filled):
    with pytest.raises(S3BucketNotFound, match="'no-such-target'"):
        filled.copy_object("z.txt", "b.txt", to_bucket="no-such-target")


def test_delete_object_and_objects(filled):
    assert filled.delete_object("z.txt") == "z.txt"
    assert filled.delete_object("z.txt") == "z.txt"  # already gone: fine, as in S3
    assert sorted(filled.delete_objects(["x/1.txt", "x/2.txt"])) == ["x/1.txt", "x/2.txt"]

    assert filled.list_objects() == ["x/y/3.txt"]


class _RefusingClient:
    """moto never refuses a delete: this stand-in answers as S3 does when it does.

    Keys starting with "locked/" are refused (AccessDenied); a batch holding "boom" fails as a
    whole (500 InternalError). Every request is recorded.
    """

    class meta:  # noqa: N801 (boto3's attribute name)
        endpoint_url = "http://127.0.0.1:9"

    def __init__(self):
        self.batches: list[list[str]] = []

    def delete_objects(self, Bucket, Delete):  # noqa: N803 (boto3's argument names)
        from botocore.exceptions import ClientError

        keys = [o["Key"] for o in Delete["Objects"]]
        self.batches.append(keys)
        if "boom" in keys:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "m"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, "DeleteObjects")
        return {"Deleted": [{"Key": k} for k in keys if not k.startswith("locked/")],
                "Errors": [{"Key": k, "Code": "AccessDenied", "Message": "Access Denied"}
                           for k in keys if k.startswith("locked/")]}


def test_delete_objects_reports_keys_it_could_not_delete():
    client = _RefusingClient()

    with pytest.raises(AwsError) as caught:
        delete_objects(client, "raw", ["a", "locked/b"])

    assert str(caught.value) == (
        "Could not delete 1 of 2 object(s) from S3 bucket 'raw' at http://127.0.0.1:9 "
        "(1 deleted): 'locked/b' (AccessDenied). Fix the cause (for AccessDenied, the "
        "credentials need s3:DeleteObject) and delete the failed keys again.")
    assert caught.value.failed_keys == ["locked/b"] and caught.value.deleted_keys == ["a"]


def test_delete_objects_tries_every_batch_then_counts_every_failure():
    client = _RefusingClient()
    keys = ([f"locked/{i}" for i in range(5)] + [f"ok/{i}" for i in range(995)]  # batch 1
            + ["boom"] + [f"lost/{i}" for i in range(999)]  # batch 2: the request fails
            + [f"ok/{i}" for i in range(1000, 1500)])  # batch 3

    with pytest.raises(AwsError) as caught:
        delete_objects(client, "raw", keys)

    assert [len(batch) for batch in client.batches] == [1000, 1000, 500]
    message = str(caught.value)
    assert message.startswith("Could not delete 1005 of 2500 object(s) from S3 bucket 'raw' at "
                              "http://127.0.0.1:9 (1495 deleted): 'locked/0' (AccessDenied), "
                              "'locked/1' (AccessDenied), 'locked/2' (AccessDenied) and 1002 "
                              "more.")
    assert len(caught.value.failed_keys) == 1005 and "boom" in caught.value.failed_keys
    assert len(caught.value.deleted_keys) == 1495
    assert not caught.value.retryable  # AccessDenied will not pass on a retry


def test_delete_objects_in_a_missing_bucket_names_the_bucket(mocked_aws, aws_credentials):
    bucket = S3Bucket(bucket_name="no-such-bucket", credentials=aws_credentials)

    with pytest.raises(S3BucketNotFound, match="'no-such-bucket'"):
        bucket.delete_objects(["a", "b"])


def test_delete_objects_in_batches_of_a_thousand(s3_bucket):
    client = s3_bucket.credentials.get_s3_client()
    for i in range(1005):
        client.put_object(Bucket="test-bucket", Key=f"many/{i:04d}", Body=b"")

    deleted = s3_bucket.delete_objects(s3_bucket.list_objects("many"))

    assert len(deleted) == 1005
    assert s3_bucket.list_objects() == []


def test_stream_from_another_bucket_with_other_credentials(filled, server_bucket):
    """From the in-process mock to the HTTP server: two endpoints, nothing on disk."""
    content = bytes(range(256)) * 40_000  # 10 MB: goes up in parts
    filled.write_path("big.bin", content)
    target = server_bucket.model_copy(update={"multipart_threshold": 5 * 2**20,
                                              "multipart_chunksize": 5 * 2**20})

    assert target.stream_from(filled, "big.bin", "copied/big.bin") == "copied/big.bin"
    assert target.read_path("copied/big.bin") == content
    etag = target.credentials.get_s3_client().head_object(
        Bucket=target.bucket_name, Key="copied/big.bin")["ETag"]
    assert etag.strip('"').endswith("-2")


def test_stream_from_defaults_to_the_same_path(filled, s3_bucket):
    other = s3_bucket.model_copy(update={"bucket_folder": "mirror"})

    assert other.stream_from(filled, "x/y/3.txt") == "x/y/3.txt"
    assert other.read_path("x/y/3.txt") == b"x/y/3.txt"


def test_stream_from_names_the_source_when_reading_fails(filled, server_bucket, moto_server):
    """The source drops the connection part-way through the body it sends."""
    big = bytes(range(256)) * 8
    server_bucket.write_path("src/x.bin", big)
    with FlakyEndpoint(moto_server, failures=10, mode="drop-body") as front:
        source = server_bucket.model_copy(update={"credentials": AwsCredentials(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1",
            aws_client_parameters=AwsClientParameters(
                endpoint_url=front.url, config={"retries": {"total_max_attempts": 1}}))})

        with pytest.raises(AwsEndpointError) as caught:
            filled.stream_from(source, "src/x.bin", "copied/x.bin")

    message = str(caught.value)
    assert front.dropped == 1
    assert f"object 'src/x.bin' in S3 bucket {server_bucket.bucket_name!r}" in message
    assert front.url in message and "broke off" in message
    assert "test-bucket" not in message and "copied/x.bin" not in message
    assert "copied/x.bin" not in filled.list_objects("copied")


def test_stream_from_names_the_source_or_the_target_when_missing(filled, server_bucket):
    with pytest.raises(S3ObjectNotFound) as caught:
        server_bucket.stream_from(filled, "ghost.bin", "copied/ghost.bin")
    assert "No object 'ghost.bin' in S3 bucket 'test-bucket'" in str(caught.value)
    assert server_bucket.credentials.aws_client_parameters.endpoint_url not in str(caught.value)

    gone = server_bucket.model_copy(update={"bucket_name": "no-such-target"})
    with pytest.raises(S3BucketNotFound) as caught:
        gone.stream_from(filled, "z.txt")
    assert "S3 bucket 'no-such-target' does not exist at " \
        f"{server_bucket.credentials.aws_client_parameters.endpoint_url}" in str(caught.value)


# -- errors ------------------------------------------------------------------------------------


def test_missing_bucket_is_named(mocked_aws, aws_credentials, tmp_path):
    bucket = S3Bucket(bucket_name="no-such-bucket", credentials=aws_credentials)

    for call in (lambda: bucket.read_path("a"), lambda: bucket.write_path("a", b""),
                 lambda: bucket.list_objects(),
                 lambda: bucket.download_object_to_path("a", tmp_path / "a")):
        with pytest.raises(S3BucketNotFound, match="S3 bucket 'no-such-bucket' does not exist"):
            call()


def test_missing_key_is_named(s3_bucket, tmp_path):
    with pytest.raises(S3ObjectNotFound, match="No object 'nope.csv' in S3 bucket 'test-bucket'"):
        s3_bucket.download_object_to_path("nope.csv", tmp_path / "out.csv")
    with pytest.raises(S3ObjectNotFound, match="'nope.csv'"):
        s3_bucket.download_object_to_file_object("nope.csv", io.BytesIO())
    assert not (tmp_path / "out.csv").exists()


def test_missing_local_source_is_named(s3_bucket, tmp_path):
    with pytest.raises(LocalPathNotFound, match="No local file .*missing.csv"):
        s3_bucket.upload_from_path(tmp_path / "missing.csv")
    with pytest.raises(LocalPathNotFound, match="No local folder .*nodir"):
        s3_bucket.upload_from_folder(tmp_path / "nodir")


def test_wrong_credentials_are_named_without_the_secret(server_bucket, moto_server, canary):
    wrong = server_bucket.model_copy(update={"credentials": AwsCredentials(
        aws_access_key_id="AKIDWRONG", aws_secret_access_key=canary, region_name="us-east-1",
        aws_client_parameters=AwsClientParameters(endpoint_url=moto_server))})
    _server_auth(moto_server, "0")  # the server now checks keys against its IAM users
    try:
        with pytest.raises(AwsCredentialsError) as caught:
            wrong.read_path("a.txt")
    finally:
        _server_auth(moto_server, "inf")
    message = str(caught.value)
    assert f"S3 bucket {server_bucket.bucket_name!r}" in message
    assert "InvalidAccessKeyId" in message and moto_server in message
    assert canary not in message and caught.value.__cause__ is None
    assert caught.value.__suppress_context__  # botocore's error is not shown in tracebacks...
    for error in _chain(caught.value):  # ...and none reachable quotes the secret
        assert canary not in str(error) and canary not in repr(error.args)


def _chain(error: BaseException) -> list[BaseException]:
    """error and every exception reachable from it through __cause__ and __context__."""
    found: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if current is not None and all(current is not seen for seen in found):
            found.append(current)
            pending += [current.__cause__, current.__context__]
    return found


def _unreachable(creds: AwsCredentials) -> AwsCredentials:
    return creds.model_copy(update={"aws_client_parameters": AwsClientParameters(
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        config={"retries": {"total_max_attempts": 1}})})


def test_file_transfers_translate_boto3_wrappers_for_a_missing_bucket(
        mocked_aws, aws_credentials, tmp_path):
    """upload_file wraps the ClientError in S3UploadFailedError; download_file HEADs first."""
    (tmp_path / "f.txt").write_text("x")
    bucket = S3Bucket(bucket_name="no-such-bucket", credentials=aws_credentials)

    with pytest.raises(S3BucketNotFound, match="S3 bucket 'no-such-bucket' does not exist at "):
        bucket.upload_from_path(tmp_path / "f.txt", "k.txt")
    with pytest.raises(S3BucketNotFound, match="S3 bucket 'no-such-bucket' does not exist at "):
        bucket.download_object_to_path("k.txt", tmp_path / "back.txt")


def test_file_transfers_translate_boto3_wrappers_for_refused_keys(
        s3_bucket, tmp_path, canary):
    (tmp_path / "f.txt").write_text("x")
    s3_bucket.write_path("there.txt", b"x")
    wrong = s3_bucket.model_copy(update={"credentials": AwsCredentials(
        aws_access_key_id="AKIDWRONG", aws_secret_access_key=canary, region_name="us-east-1")})
    from moto.core import set_initial_no_auth_action_count

    @set_initial_no_auth_action_count(0)  # moto now checks keys against its IAM users
    def attempts() -> list[AwsCredentialsError]:
        errors = []
        for call in (lambda: wrong.upload_from_path(tmp_path / "f.txt", "k.txt"),
                     lambda: wrong.download_object_to_path("there.txt", tmp_path / "b.txt")):
            with pytest.raises(AwsCredentialsError) as caught:
                call()
            errors.append(caught.value)
        return errors

    for error in attempts():
        assert "in S3 bucket 'test-bucket'" in str(error)
        assert "(InvalidAccessKeyId)" in str(error) and "Fix aws_access_key_id" in str(error)
        assert all(canary not in str(e) for e in _chain(error))


def test_file_transfers_name_an_unreachable_endpoint(aws_credentials, tmp_path):
    (tmp_path / "f.txt").write_text("x")
    creds = _unreachable(aws_credentials)
    endpoint = creds.aws_client_parameters.endpoint_url
    bucket = S3Bucket(bucket_name="raw", credentials=creds)

    for call in (lambda: bucket.upload_from_path(tmp_path / "f.txt", "k.txt"),
                 lambda: bucket.download_object_to_path("k.txt", tmp_path / "b.txt")):
        with pytest.raises(AwsEndpointError, match=f"Could not reach the AWS endpoint {endpoint}"):
            call()


def test_unreachable_endpoint_is_named(aws_credentials):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    params = AwsClientParameters(endpoint_url=endpoint,
                                 config={"retries": {"total_max_attempts": 1}})
    bucket = S3Bucket(bucket_name="raw", credentials=aws_credentials.model_copy(
        update={"aws_client_parameters": params}))

    with pytest.raises(AwsEndpointError, match=f"Could not reach the AWS endpoint {endpoint}"):
        bucket.write_path("a.txt", b"x")


def _server_auth(url: str, count: str) -> None:
    # text/plain: as a form post, Flask would hide the body from moto
    request = urllib.request.Request(f"{url}/moto-api/reset-auth", data=count.encode(),
                                     method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).close()


# -- saved blocks --------------------------------------------------------------------------------


def test_saved_bucket_loads_with_its_credentials(s3_bucket, canary, block_home):
    s3_bucket.credentials = AwsCredentials(aws_access_key_id="testing",
                                           aws_secret_access_key=canary)
    s3_bucket.bucket_folder = "exports"
    s3_bucket.multipart_chunksize = 16 * 2**20
    s3_bucket.save("raw")

    loaded = S3Bucket.load("raw")

    assert loaded.credentials.aws_secret_access_key.get_secret_value() == canary
    assert (loaded.bucket_folder, loaded.multipart_chunksize) == ("exports", 16 * 2**20)
    assert loaded.transfer_config.multipart_chunksize == 16 * 2**20
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()
    loaded.write_path("a.txt", b"hi")
    assert _keys(s3_bucket) == ["exports/a.txt"]


def test_minio_credentials_work_as_bucket_credentials(mocked_aws):
    from prefect_aws import MinIOCredentials

    creds = MinIOCredentials(minio_root_user="minio", minio_root_password="minio123",
                             region_name="us-east-1")
    creds.get_s3_client().create_bucket(Bucket="minio-bucket")
    bucket = S3Bucket(bucket_name="minio-bucket", credentials=creds)

    bucket.write_path("a.txt", b"hi")

    assert bucket.read_path("a.txt") == b"hi"


def test_connection_pool_grows_with_concurrency(s3_bucket):
    wide = s3_bucket.model_copy(update={"max_concurrency": 32})

    assert wide._client().meta.config.max_pool_connections == 32
    assert s3_bucket._client().meta.config.max_pool_connections == 10
