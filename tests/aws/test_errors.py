"""Which AWS failures are transient (retried by the tasks) and how each one reads."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from core_blocks.runtime.states import State, StateType
from prefect_aws.errors import (
    AwsCredentialsError,
    AwsEndpointError,
    AwsError,
    is_transient,
    retry_on_transient_errors,
    translate,
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
])
def test_transient(exc):
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    client_error("AccessDenied", 403), client_error("NoSuchKey", 404),
    client_error("InvalidBucketName", 400), NoCredentialsError(), ValueError("x"),
    AwsCredentialsError("x"), AwsError("x"),
])
def test_not_transient(exc):
    assert not is_transient(exc)


def test_retry_condition_reads_the_failed_state():
    failed = State(StateType.FAILED, error=client_error("SlowDown", 503))

    assert retry_on_transient_errors(None, None, failed) is True
    assert retry_on_transient_errors(None, None, State(StateType.FAILED,
                                                       error=client_error("403", 403))) is False


def test_translated_errors_keep_code_status_and_retryability():
    error = translate(client_error("SlowDown", 503), bucket="raw", key="a.csv",
                      endpoint="http://127.0.0.1:9")

    assert isinstance(error, AwsError) and error.retryable
    assert (error.code, error.status) == ("SlowDown", 503)
    assert str(error) == ("AWS failed on object 'a.csv' in S3 bucket 'raw' at "
                          "http://127.0.0.1:9: SlowDown (HTTP 503).")


def test_connection_errors_name_the_endpoint():
    error = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:9/raw"),
                      endpoint="http://127.0.0.1:9")

    assert isinstance(error, AwsEndpointError) and error.retryable
    assert "http://127.0.0.1:9" in str(error)


def test_non_aws_errors_are_left_alone():
    assert translate(ValueError("x")) is None
