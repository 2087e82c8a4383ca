"""AWS errors as one clear sentence, and which of them are worth retrying.

botocore reports a missing bucket, a wrong key or a refused connection as generic exceptions
whose text names neither the bucket nor what to do. `aws_errors()` turns them into the
errors below, naming the bucket, key, secret or endpoint involved and never a secret value.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core_blocks.errors import CoreBlocksError

# Error codes AWS uses for "slow down" and "try again later": retried by the tasks.
_TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "SlowDown",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "RequestThrottled",
    "PriorRequestNotComplete", "EC2ThrottledException", "InternalError", "ServiceUnavailable",
    "RequestTimeout", "RequestTimeoutException",
})
_CREDENTIAL_CODES = frozenset({
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId",
    "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException", "InvalidToken",
    "AuthFailure", "AccessDenied", "AccessDeniedException", "AllAccessDisabled", "403",
})
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class AwsError(CoreBlocksError):
    """An AWS call that failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.status = status
        self.retryable = retryable


class AwsCredentialsError(AwsError, PermissionError):
    """Credentials that AWS refused, could not find, or that lack a permission."""


class AwsEndpointError(AwsError, ConnectionError):
    """An endpoint that could not be reached (refused, reset, timed out)."""


class S3BucketNotFound(AwsError, LookupError):
    """A bucket that does not exist."""


class S3ObjectNotFound(AwsError, LookupError):
    """A key that does not exist in its bucket."""


class AwsSecretNotFound(AwsError, LookupError):
    """A Secrets Manager secret that does not exist (or is scheduled for deletion)."""


class LocalPathNotFound(CoreBlocksError, FileNotFoundError):
    """A local file or folder to upload that does not exist."""


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may cure: throttling, 5xx, resets and timeouts; not 403/404."""
    if isinstance(exc, AwsError):
        return exc.retryable
    code, status = _code_and_status(exc)
    if code is not None or status is not None:
        return code in _TRANSIENT_CODES or (status is not None and (status >= 500 or status == 429))
    return _is_connection_error(exc)


def retry_on_transient_errors(task: Any, run: Any, state: Any) -> bool:
    """A task's `retry_condition_fn`: retry transient AWS failures, never client errors."""
    return state.error is not None and is_transient(state.error)


@contextmanager
def aws_errors(*, endpoint: str | None = None, bucket: str | None = None,
               key: str | None = None, secret_name: str | None = None,
               client: Any = None) -> Iterator[None]:
    """Translate botocore exceptions raised inside the block into AwsError subclasses.

    `client` (a boto3 client) supplies the endpoint when none is given and lets a 404 on
    an object tell a missing bucket from a missing key.
    """
    try:
        yield
    except AwsError:
        raise
    except Exception as exc:
        error = translate(exc, endpoint=endpoint or _endpoint_of(client), bucket=bucket,
                          key=key, secret_name=secret_name, client=client)
        if error is None:
            raise
        raise error from None  # botocore's own text adds nothing and may quote request data


def translate(exc: BaseException, *, endpoint: str | None = None, bucket: str | None = None,
              key: str | None = None, secret_name: str | None = None,
              client: Any = None) -> AwsError | None:
    """The AwsError for a botocore exception, or None when it is not an AWS failure."""
    where = f" at {endpoint}" if endpoint else ""
    if _is_connection_error(exc):
        return AwsEndpointError(
            f"Could not reach the AWS endpoint {endpoint or '(default)'} "
            f"({type(exc).__name__}). Check endpoint_url in aws_client_parameters, the region "
            "and your network.", retryable=True)
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "ProfileNotFound",
                "NoRegionError", "CredentialRetrievalError"):
        return _credentials_problem(exc)
    code, status = _code_and_status(exc)
    if code is None and status is None:
        return None
    retryable = is_transient(exc)
    thing = _describe(bucket, key, secret_name)
    if code == "NoSuchBucket" or (bucket and not key and code in _MISSING_KEY_CODES):
        bucket = _error_field(exc, "BucketName") or bucket  # a copy's target, for one
        return S3BucketNotFound(
            f"S3 bucket {bucket!r} does not exist{where}. Create it, or fix bucket_name.",
            code=code, status=status)
    if code in _MISSING_KEY_CODES and bucket:
        # A HEAD's bare 404 does not say whether the bucket or the key is missing.
        if code != "NoSuchKey" and client is not None and not _bucket_exists(client, bucket):
            return S3BucketNotFound(
                f"S3 bucket {bucket!r} does not exist{where}. Create it, or fix bucket_name.",
                code=code, status=status)
        return S3ObjectNotFound(
            f"No object {key!r} in S3 bucket {bucket!r}{where}. List what is there with "
            "list_objects().", code=code, status=status)
    if code == "ResourceNotFoundException" and secret_name:
        return AwsSecretNotFound(
            f"No secret {secret_name!r} in AWS Secrets Manager{where}. Create it with "
            "write_secret(), or fix secret_name.", code=code, status=status)
    if code == "InvalidRequestException" and secret_name and "delet" in _message(exc).lower():
        return AwsSecretNotFound(
            f"The secret {secret_name!r} is scheduled for deletion{where}. Restore it in AWS "
            "(restore-secret) or use another secret_name.", code=code, status=status)
    if code in _CREDENTIAL_CODES or status == 403:
        return AwsCredentialsError(
            f"AWS refused the credentials for {thing}{where} ({code}). Check the access key, "
            "secret key, session token and the permissions they grant.",
            code=code, status=status)
    return AwsError(f"AWS failed on {thing}{where}: {code} (HTTP {status}).",
                    code=code, status=status, retryable=retryable)


def _credentials_problem(exc: BaseException) -> AwsError:
    name = type(exc).__name__
    if name == "ProfileNotFound":
        profile = getattr(exc, "kwargs", {}).get("profile", "?")
        return AwsCredentialsError(
            f"No AWS profile named {profile!r} in the AWS config files. Fix profile_name, or "
            "run: aws configure --profile NAME.")
    if name == "NoRegionError":
        return AwsCredentialsError(
            "No AWS region is set. Set region_name on the credentials block, or AWS_REGION.")
    if name == "PartialCredentialsError":
        return AwsCredentialsError(
            "Incomplete AWS credentials: set both aws_access_key_id and aws_secret_access_key.")
    return AwsCredentialsError(
        "No AWS credentials found: set aws_access_key_id and aws_secret_access_key on the "
        "credentials block, or provide them through the environment, a profile or a role.")


def _describe(bucket: str | None, key: str | None, secret_name: str | None) -> str:
    if secret_name:
        return f"secret {secret_name!r}"
    if bucket and key:
        return f"object {key!r} in S3 bucket {bucket!r}"
    if bucket:
        return f"S3 bucket {bucket!r}"
    return "the request"


def _code_and_status(exc: BaseException) -> tuple[str | None, int | None]:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None, None
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (str(code) if code is not None else None), status


def _error_field(exc: BaseException, name: str) -> str | None:
    response = getattr(exc, "response", None) or {}
    value = response.get("Error", {}).get(name)
    return str(value) if value else None


def _message(exc: BaseException) -> str:
    return _error_field(exc, "Message") or ""


_CONNECTION_ERRORS = frozenset({
    "EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError",
    "ConnectTimeoutError", "ProxyConnectionError", "ConnectionError",
})


def _is_connection_error(exc: BaseException) -> bool:
    """botocore's (or the OS's) refused, reset or timed-out connections, by class name.

    Matching names keeps botocore unimported here; both botocore's ConnectionError and the
    built-in one (ConnectionResetError's base) are covered.
    """
    if isinstance(exc, AwsError):
        return False
    return any(cls.__name__ in _CONNECTION_ERRORS for cls in type(exc).__mro__)


def _endpoint_of(client: Any) -> str | None:
    return getattr(getattr(client, "meta", None), "endpoint_url", None)


def _bucket_exists(client: Any, bucket: str) -> bool:
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        _, status = _code_and_status(exc)
        return status != 404
    return True
