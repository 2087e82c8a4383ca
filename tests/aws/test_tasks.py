"""The S3 tasks: what each does (moto in process), and when they retry (moto's server behind a
front that fails on purpose)."""

from __future__ import annotations

import base64
import logging

import pytest

from core_blocks import flow
from core_blocks.runtime import history
from core_blocks.store import get_store
from prefect_aws import (
    AwsClientParameters,
    AwsCredentials,
    AwsCredentialsError,
    AwsEndpointError,
    AwsError,
    S3BucketNotFound,
    S3ObjectNotFound,
)
from prefect_aws.s3 import (
    s3_copy,
    s3_delete,
    s3_download,
    s3_list_objects,
    s3_move,
    s3_upload,
)
from tests.aws.flaky_endpoint import FlakyEndpoint


@pytest.fixture
def bucket(mocked_aws, aws_credentials):
    client = aws_credentials.get_s3_client()
    client.create_bucket(Bucket="raw")
    client.create_bucket(Bucket="archive")
    return "raw"


def _keys(creds, bucket="raw"):
    response = creds.get_s3_client().list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in response.get("Contents", []))


def test_upload_then_download(bucket, aws_credentials):
    assert s3_upload(b"hello", bucket, aws_credentials, "a/greeting.txt") == "a/greeting.txt"
    assert s3_download(bucket, "a/greeting.txt", aws_credentials) == b"hello"


def test_upload_without_a_key_picks_a_uuid(bucket, aws_credentials):
    key = s3_upload(b"x", bucket, aws_credentials)

    assert len(key) == 36 and _keys(aws_credentials) == [key]


def test_large_upload_goes_in_parts(bucket, aws_credentials):
    data = bytes(9 * 2**20)  # above boto3's 8 MiB threshold

    s3_upload(data, bucket, aws_credentials, key="big")

    head = aws_credentials.get_s3_client().head_object(Bucket=bucket, Key="big")
    assert head["ETag"].strip('"').endswith("-2")
    assert s3_download(bucket, "big", aws_credentials) == data


def test_client_parameters_override_the_credentials_own(bucket, aws_credentials, moto_server):
    """A bucket of the same name on both sides: the upload must land on the server only."""
    params = AwsClientParameters(endpoint_url=moto_server)
    server = aws_credentials.get_s3_client(params)
    server.create_bucket(Bucket="on-server")
    aws_credentials.get_s3_client().create_bucket(Bucket="on-server")

    s3_upload(b"there", "on-server", aws_credentials, "k", aws_client_parameters=params)

    assert server.get_object(Bucket="on-server", Key="k")["Body"].read() == b"there"
    assert s3_download("on-server", "k", aws_credentials, params) == b"there"
    assert _keys(aws_credentials, "on-server") == []  # nothing landed in the in-process mock
    with pytest.raises(S3ObjectNotFound, match="'k'"):
        s3_download("on-server", "k", aws_credentials)  # without the parameters: the mock


def test_list_objects(bucket, aws_credentials):
    for key in ("2026/01.csv", "2026/02.csv", "2026/q1/summary.csv", "2025/12.csv"):
        s3_upload(key.encode(), bucket, aws_credentials, key)

    objects = s3_list_objects(bucket, aws_credentials, prefix="2026/")
    assert [o["Key"] for o in objects] == ["2026/01.csv", "2026/02.csv", "2026/q1/summary.csv"]
    assert {"Key", "Size", "ETag", "LastModified"} <= set(objects[0])

    flat = s3_list_objects(bucket, aws_credentials, prefix="2026/", delimiter="/")
    assert [o["Key"] for o in flat] == ["2026/01.csv", "2026/02.csv"]
    assert len(s3_list_objects(bucket, aws_credentials, page_size=1, max_items=3)) == 3
    assert s3_list_objects(bucket, aws_credentials, prefix="2026/q1",
                           jmespath_query="Contents[].Size") == [19]


def test_copy_within_and_across_buckets(bucket, aws_credentials):
    s3_upload(b"data", bucket, aws_credentials, "in/a.csv")

    assert s3_copy("in/a.csv", "copy/a.csv", bucket, aws_credentials) == "copy/a.csv"
    s3_copy("in/a.csv", "a.csv", bucket, aws_credentials, target_bucket_name="archive",
            StorageClass="GLACIER")

    assert _keys(aws_credentials) == ["copy/a.csv", "in/a.csv"]
    head = aws_credentials.get_s3_client().head_object(Bucket="archive", Key="a.csv")
    assert head["StorageClass"] == "GLACIER"


def test_move_within_and_across_buckets(bucket, aws_credentials):
    s3_upload(b"data", bucket, aws_credentials, "in/a.csv")
    s3_upload(b"more", bucket, aws_credentials, "in/b.csv")

    assert s3_move("in/a.csv", "done/a.csv", bucket, aws_credentials) == "done/a.csv"
    s3_move("in/b.csv", "b.csv", bucket, aws_credentials, target_bucket_name="archive")
    s3_move("done/a.csv", "done/a.csv", bucket, aws_credentials)  # onto itself: kept

    assert _keys(aws_credentials) == ["done/a.csv"]
    assert s3_download("archive", "b.csv", aws_credentials) == b"more"


def test_delete(bucket, aws_credentials):
    s3_upload(b"x", bucket, aws_credentials, "tmp/x")

    assert s3_delete(bucket, "tmp/x", aws_credentials) == "tmp/x"
    assert s3_delete(bucket, "tmp/x", aws_credentials) == "tmp/x"  # already gone: fine
    assert _keys(aws_credentials) == []


def test_tasks_run_in_a_flow_with_a_saved_block(bucket, aws_credentials):
    aws_credentials.save("prod")

    @flow
    def nightly():
        creds = AwsCredentials.load("prod")
        key = s3_upload.submit(b"report", "raw", creds, "report.txt").result()
        return s3_download("raw", key, creds)

    assert nightly() == b"report"


@pytest.mark.parametrize(("call", "error", "named"), [
    (lambda c: s3_download("raw", "nope.csv", c, return_state=True), S3ObjectNotFound,
     "'nope.csv'"),
    (lambda c: s3_download("no-bucket", "a.csv", c, return_state=True), S3BucketNotFound,
     "'no-bucket'"),
    (lambda c: s3_copy("nope.csv", "b.csv", "raw", c, return_state=True), S3ObjectNotFound,
     "'nope.csv'"),
    (lambda c: s3_list_objects("no-bucket", c, return_state=True), S3BucketNotFound,
     "'no-bucket'"),
])
def test_client_errors_fail_with_the_name(bucket, aws_credentials, call, error, named):
    state = call(aws_credentials)

    assert state.is_failed()
    assert isinstance(state.error, error) and named in str(state.error)


# -- retries over HTTP -------------------------------------------------------------------------


@pytest.fixture
def seeded(server_credentials):
    client = server_credentials.get_s3_client()
    client.create_bucket(Bucket="raw")
    client.put_object(Bucket="raw", Key="a.csv", Body=b"id\n1\n")
    return server_credentials


def _through(front: FlakyEndpoint) -> AwsCredentials:
    """Credentials reaching the server through front, botocore's own retries off."""
    return AwsCredentials(aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="us-east-1", aws_client_parameters=AwsClientParameters(
                              endpoint_url=front.url,
                              config={"retries": {"total_max_attempts": 1}}))


_NO_WAIT = {"retry_delay_seconds": 0, "retry_jitter_factor": None}


@pytest.mark.parametrize("mode", ["throttle", "server-error", "reset"])
def test_transient_failures_are_retried(seeded, moto_server, mode):
    with FlakyEndpoint(moto_server, failures=2, mode=mode) as front:
        data = s3_download.with_options(**_NO_WAIT)("raw", "a.csv", _through(front))

    assert data == b"id\n1\n"
    assert front.requests == 3


def test_retries_give_up_after_three(seeded, moto_server):
    with FlakyEndpoint(moto_server, failures=10, mode="throttle") as front:
        state = s3_download.with_options(**_NO_WAIT)("raw", "a.csv", _through(front),
                                                     return_state=True)

    assert isinstance(state.error, AwsError) and state.error.code == "SlowDown"
    assert front.requests == 4  # the first try and three retries


def test_forbidden_is_not_retried(seeded, moto_server):
    with FlakyEndpoint(moto_server, failures=10, mode="forbidden") as front:
        state = s3_download.with_options(**_NO_WAIT)("raw", "a.csv", _through(front),
                                                     return_state=True)

    assert isinstance(state.error, AwsCredentialsError)
    assert "'a.csv'" in str(state.error) and "AccessDenied" in str(state.error)
    assert front.requests == 1


def test_missing_key_is_not_retried(seeded, moto_server):
    with FlakyEndpoint(moto_server) as front:
        state = s3_download.with_options(**_NO_WAIT)("raw", "nope.csv", _through(front),
                                                     return_state=True)

    assert isinstance(state.error, S3ObjectNotFound)
    assert front.requests == 1


def _last_task_run() -> dict:
    """The newest task run in run history, with its states."""
    (newest,) = history.list_runs(get_store(), kind="task", limit=1)
    return history.get_run(get_store(), newest["id"])


def test_unreachable_endpoint_is_retried_then_named(aws_credentials):
    from tests.aws.conftest import closed_port

    endpoint = f"http://127.0.0.1:{closed_port()}"
    creds = aws_credentials.model_copy(update={"aws_client_parameters": AwsClientParameters(
        endpoint_url=endpoint, config={"retries": {"total_max_attempts": 1}})})

    state = s3_upload.with_options(**_NO_WAIT)(b"x", "raw", creds, "k", return_state=True)

    assert isinstance(state.error, AwsEndpointError) and endpoint in str(state.error)
    run = _last_task_run()
    assert run["fn_name"] == "s3_upload" and run["attempts"] == 4  # the first try, 3 retries
    assert [s["state"] for s in run["states"]].count("Retrying") == 3


@pytest.mark.parametrize("failures", [1, 3])
def test_a_body_cut_off_part_way_is_retried(seeded, moto_server, failures):
    with FlakyEndpoint(moto_server, failures=failures, mode="drop-body") as front:
        data = s3_download.with_options(**_NO_WAIT)("raw", "a.csv", _through(front))

    assert data == b"id\n1\n"
    assert front.dropped == failures and front.requests == failures + 1


def test_a_body_cut_off_every_time_is_named_after_the_retries(seeded, moto_server):
    with FlakyEndpoint(moto_server, failures=10, mode="drop-body") as front:
        state = s3_download.with_options(**_NO_WAIT)("raw", "a.csv", _through(front),
                                                     return_state=True)

    assert front.dropped == 4  # the first try and three retries
    assert isinstance(state.error, AwsEndpointError) and state.error.retryable
    assert str(state.error) == (
        f"The connection to the AWS endpoint {front.url} broke off while transferring object "
        "'a.csv' in S3 bucket 'raw' (ResponseStreamingError). Try again; the S3 tasks retry "
        "this on their own.")


def test_tls_certificate_failures_are_named_and_not_retried(aws_credentials, tls_endpoint):
    creds = aws_credentials.model_copy(update={"aws_client_parameters": AwsClientParameters(
        endpoint_url=tls_endpoint.url, config={"retries": {"total_max_attempts": 1}})})

    state = s3_download.with_options(**_NO_WAIT)("raw", "a.csv", creds, return_state=True)

    assert isinstance(state.error, AwsEndpointError) and not state.error.retryable
    message = str(state.error)
    assert message.startswith(f"The TLS certificate of the AWS endpoint {tls_endpoint.url} "
                              "failed the check (self-signed certificate). Check verify in "
                              "aws_client_parameters")
    assert "CA bundle" in message and "Could not reach" not in message
    assert tls_endpoint.connections == 1 and _last_task_run()["attempts"] == 1


def test_sse_c_keys_in_copy_kwargs_stay_out_of_errors_and_logs(bucket, aws_credentials, canary,
                                                               caplog):
    """SSE-C customer keys go to S3 through copy_kwargs; a failed copy must not quote them,
    neither as given nor base64-encoded as botocore sends them."""
    key = (canary + "0" * 32)[:32]  # AES-256: 32 bytes
    client = aws_credentials.get_s3_client()
    client.put_object(Bucket="raw", Key="enc.csv", Body=b"x", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=key)
    variants = [
        ("missing.csv", {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}),
        # a key of the wrong type with its MD5 given: botocore quotes it in its own error
        ("enc.csv", {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key.encode(),
                     "SSECustomerKeyMD5": "bWQ1"}),
        ("enc.csv", {"CopySourceSSECustomerAlgorithm": "AES256",
                     "CopySourceSSECustomerKey": key.encode(),
                     "CopySourceSSECustomerKeyMD5": "bWQ1"}),
    ]
    forms = (key, base64.b64encode(key.encode()).decode(), canary)

    @flow
    def copies():
        return [s3_copy.with_options(retries=0)(source, "copy.csv", "raw", aws_credentials,
                                                return_state=True, **kwargs)
                for source, kwargs in variants]

    with caplog.at_level(logging.DEBUG, logger="prefect_aws"), \
            caplog.at_level(logging.INFO, logger="core_blocks"):
        states = copies()

    # by name: each is also an instance of botocore's class (ClientError, ...)
    assert [type(s.error).__name__ for s in states] == [
        "S3ObjectNotFound", "AwsError", "AwsError"]
    assert "SSECustomerKey (invalid type)" in str(states[1].error)
    for state in states:
        error: BaseException | None = state.error
        while error is not None:
            assert not any(form in str(error) or form in repr(error.args) for form in forms)
            error = error.__cause__ or error.__context__
    assert caplog.text and not any(form in caplog.text for form in forms)
