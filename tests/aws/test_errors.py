"""Which AWS failures are transient (retried by the tasks) and how each one reads."""

from __future__ import annotations

import pytest
from boto3.exceptions import RetriesExceededError, S3UploadFailedError
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
    ResponseStreamingError,
    SSLError,
)
from urllib3.exceptions import ProtocolError

from core_blocks.runtime.states import State, StateType
from prefect_aws.error_translation import is_transient, retry_on_transient_errors, translate
from prefect_aws.errors import (
    AwsCredentialsError,
    AwsEndpointError,
    AwsError,
    S3BucketNotFound,
    S3ObjectNotFound,
)


def client_error(code: str, status: int, **error) -> ClientError:
    response = {"Error": {"Code": code, "Message": "m", **error},
                "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetObject")


@pytest.mark.parametrize("exc", [
    client_error("SlowDown", 503), client_error("ThrottlingException", 400),
    client_error("InternalError", 500), client_error("Whatever", 502),
    client_error("TooManyRequestsException", 429),
    EndpointConnectionError(endpoint_url="http://x"), ReadTimeoutError(endpoint_url="http://x"),
    ConnectionClosedError(endpoint_url="http://x"), ConnectionResetError(),
    AwsError("x", retryable=True),
    # a connection reset part-way through a body
    ResponseStreamingError(error="reset"), IncompleteReadError(actual_bytes=1, expected_bytes=2),
    ProtocolError("Connection broken"), RetriesExceededError(ResponseStreamingError(error="x")),
])
def test_transient(exc):
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    client_error("AccessDenied", 403), client_error("NoSuchKey", 404),
    client_error("InvalidBucketName", 400), NoCredentialsError(), ValueError("x"),
    AwsCredentialsError("x"), AwsError("x"),
    SSLError(endpoint_url="https://x", error="certificate verify failed"),
])
def test_not_transient(exc):
    assert not is_transient(exc)


def test_retry_condition_reads_the_failed_state():
    failed = State(StateType.FAILED, error=client_error("SlowDown", 503))

    assert retry_on_transient_errors(None, None, failed) is True
    assert retry_on_transient_errors(None, None, State(StateType.FAILED,
                                                       error=client_error("403", 403))) is False


def test_translated_errors_keep_code_status_and_retryability():
    error = translate(client_error("Whatever", 502), bucket="raw", key="a.csv",
                      endpoint="http://127.0.0.1:9")

    assert isinstance(error, AwsError) and error.retryable
    assert (error.code, error.status) == ("Whatever", 502)
    assert str(error) == ("AWS failed on object 'a.csv' in S3 bucket 'raw' at "
                          "http://127.0.0.1:9: Whatever (HTTP 502).")


def test_connection_errors_name_the_endpoint():
    error = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:9/raw"),
                      endpoint="http://127.0.0.1:9")

    assert isinstance(error, AwsEndpointError) and error.retryable
    assert "http://127.0.0.1:9" in str(error)


def test_non_aws_errors_are_left_alone():
    assert translate(ValueError("x")) is None


def _raised_inside(wrapper, inner):
    """wrapper, raised while handling inner, as boto3's upload_file raises it."""
    try:
        try:
            raise inner
        except ClientError:
            raise wrapper  # noqa: B904 (boto3 does exactly this)
    except Exception as exc:
        return exc


@pytest.mark.parametrize(("inner", "error", "named"), [
    (client_error("NoSuchBucket", 404), S3BucketNotFound, "S3 bucket 'raw' does not exist"),
    (client_error("InvalidAccessKeyId", 403), AwsCredentialsError, "InvalidAccessKeyId"),
    (client_error("SlowDown", 503), AwsError, "(SlowDown)"),
])
def test_upload_failed_wrapper_is_translated_from_its_context(inner, error, named):
    wrapped = _raised_inside(S3UploadFailedError(f"Failed to upload /tmp/f to raw/k: {inner}"),
                             inner)

    translated = translate(wrapped, bucket="raw", key="k", endpoint="http://127.0.0.1:9")

    # exactly `error` (not a subclass of it), with botocore's ClientError as second base
    assert type(translated).__name__ == error.__name__ and isinstance(translated, error)
    assert isinstance(translated, ClientError) and named in str(translated)
    assert "'raw'" in str(translated) and "http://127.0.0.1:9" in str(translated)
    assert is_transient(wrapped) is translated.retryable


def test_upload_failed_wrapper_without_context_is_read_from_its_text():
    wrapped = S3UploadFailedError(
        "Failed to upload /tmp/f to raw/k: An error occurred (NoSuchBucket) when calling the "
        "PutObject operation: The specified bucket does not exist")

    assert isinstance(translate(wrapped, bucket="raw", key="k"), S3BucketNotFound)


@pytest.mark.parametrize("inner", [
    ResponseStreamingError(error="Connection broken: IncompleteRead(10 bytes read)"),
    IncompleteReadError(actual_bytes=10, expected_bytes=100),
    ProtocolError("Connection broken: IncompleteRead"),
])
def test_a_dropped_download_reads_as_one_sentence(inner):
    translated = translate(RetriesExceededError(inner), bucket="raw", key="a.csv",
                           endpoint="http://127.0.0.1:9")

    assert isinstance(translated, AwsEndpointError) and translated.retryable
    assert str(translated) == (
        "The connection to the AWS endpoint http://127.0.0.1:9 broke off while transferring "
        f"object 'a.csv' in S3 bucket 'raw' ({type(inner).__name__}). Try again; the S3 tasks "
        "retry this on their own.")


def test_a_download_that_kept_timing_out_is_named_too():
    """download_file also retries socket timeouts, which botocore does not wrap."""
    translated = translate(RetriesExceededError(TimeoutError("timed out")), bucket="raw",
                           key="a.csv", endpoint="http://127.0.0.1:9")

    assert isinstance(translated, AwsEndpointError) and translated.retryable
    assert "broke off while transferring object 'a.csv'" in str(translated)


def test_a_missing_key_inside_a_retries_wrapper_is_still_a_missing_key():
    translated = translate(RetriesExceededError(client_error("NoSuchKey", 404)), bucket="raw",
                           key="a.csv")

    assert isinstance(translated, S3ObjectNotFound)


def test_tls_failures_are_not_unreachable_and_not_retried():
    error = translate(SSLError(endpoint_url="https://127.0.0.1:9/raw/a",
                               error="certificate verify failed"),
                      endpoint="https://127.0.0.1:9")

    assert isinstance(error, AwsEndpointError) and not error.retryable
    assert "Could not reach" not in str(error)
    assert "https://127.0.0.1:9" in str(error) and "verify" in str(error)
    assert "CA bundle" in str(error)


def test_parameter_errors_name_parameters_never_values(canary):
    original = ParamValidationError(report=(
        f"Invalid type for parameter SecretString, value: {{'password': '{canary}'}}, type: "
        "<class 'dict'>, valid types: <class 'str'>\n"
        'Missing required parameter in input: "Bucket"\n'
        f'Unknown parameter in input: "Colour", must be one of: A, B'))

    error = translate(original, secret_name="db")

    assert str(error) == (
        "Invalid request parameters for secret 'db': SecretString (invalid type), Bucket "
        "(missing), Colour (unknown). Values are not shown; check the types and lengths of the "
        "arguments passed.")
    assert canary not in str(original) and canary not in repr(original.kwargs)


# -- our errors are botocore's too (code written for Prefect's integration catches them) --------

@pytest.mark.parametrize(("exc", "botocore_class", "ours"), [
    (client_error("NoSuchKey", 404), ClientError, S3ObjectNotFound),
    (client_error("AccessDenied", 403), ClientError, AwsCredentialsError),
    (EndpointConnectionError(endpoint_url="http://x"), EndpointConnectionError, AwsEndpointError),
    (ReadTimeoutError(endpoint_url="http://x"), ReadTimeoutError, AwsEndpointError),
    (NoCredentialsError(), NoCredentialsError, AwsCredentialsError),
    (SSLError(endpoint_url="https://x", error="bad"), SSLError, AwsEndpointError),
    (S3UploadFailedError("An error occurred (NoSuchBucket) when calling the PutObject operation"),
     ClientError, S3BucketNotFound),
])
def test_translated_errors_are_instances_of_the_botocore_class(exc, botocore_class, ours):
    error = translate(exc, bucket="raw", key="a.csv")

    assert isinstance(error, ours) and isinstance(error, botocore_class)
    assert type(error).__name__ == ours.__name__
    assert "raw" in str(error) or "endpoint" in str(error) or "credentials" in str(error)


def test_a_client_error_keeps_botocores_response_and_operation():
    error = translate(client_error("NoSuchKey", 404), bucket="raw", key="a.csv")

    assert error.response["Error"]["Code"] == "NoSuchKey"
    assert error.operation_name == "GetObject"
    assert (error.code, error.status) == ("NoSuchKey", 404)
    assert str(error).startswith("No object 'a.csv' in S3 bucket 'raw'")


def test_errors_with_a_botocore_base_pickle_and_copy():
    import copy
    import pickle

    error = translate(client_error("SlowDown", 503), bucket="raw")
    for clone in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert type(clone) is type(error)
        assert str(clone) == str(error) and clone.retryable and clone.response == error.response


def test_errors_not_raised_by_botocore_get_no_botocore_base():
    error = translate(ConnectionResetError(), bucket="raw")

    assert isinstance(error, AwsEndpointError) and not isinstance(error, EndpointConnectionError)


def test_except_client_error_catches_a_missing_object(s3_bucket):
    from prefect_aws.s3 import s3_download

    with pytest.raises(ClientError) as caught:
        s3_bucket.read_path("missing.csv")
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"
    assert isinstance(caught.value, S3ObjectNotFound)
    with pytest.raises(ClientError, match="does not exist"):
        s3_download("no-such-bucket", "k", s3_bucket.credentials)


def test_except_endpoint_connection_error_catches_an_unreachable_endpoint():
    from prefect_aws import AwsClientParameters, AwsCredentials, S3Bucket
    from tests.aws.conftest import closed_port

    creds = AwsCredentials(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1",
        aws_client_parameters=AwsClientParameters(
            endpoint_url=f"http://127.0.0.1:{closed_port()}",
            config={"retries": {"total_max_attempts": 1}}))

    with pytest.raises(EndpointConnectionError, match="Could not reach the AWS endpoint"):
        S3Bucket(bucket_name="raw", credentials=creds).read_path("a.csv")
