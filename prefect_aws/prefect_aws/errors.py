"""AWS errors as one clear sentence, and which of them are worth retrying.

botocore reports a missing bucket, a wrong key or a refused connection as generic exceptions
whose text names neither the bucket nor what to do, and boto3's transfer methods hide them
inside wrappers (`S3UploadFailedError`, `RetriesExceededError`). `aws_errors()` turns them into
the errors below, naming the bucket, key, secret or endpoint involved and never a secret value.

Each raised error is also an instance of the botocore class it replaces (ClientError,
EndpointConnectionError, NoCredentialsError, ...), so code written to catch botocore's errors
around these calls still does. botocore is loaded by then; this module never imports it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

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
    """An endpoint that could not be reached (refused, reset, timed out), that dropped the
    connection mid-transfer, or whose TLS certificate failed the check (not retryable)."""


class S3BucketNotFound(AwsError, LookupError):
    """A bucket that does not exist."""


class S3ObjectNotFound(AwsError, LookupError):
    """A key that does not exist in its bucket."""


class AwsSecretNotFound(AwsError, LookupError):
    """A Secrets Manager secret that does not exist (or is scheduled for deletion)."""


class LocalPathNotFound(CoreBlocksError, FileNotFoundError):
    """A local file or folder to upload that does not exist."""


class Advice(NamedTuple):
    """What an error tells the user to check; blocks and the secret backend configure
    endpoints, credentials and TLS in different places."""

    endpoint: str = "Check endpoint_url in aws_client_parameters, the region and your network."
    credentials: str = ("Check the access key, secret key, session token and the permissions "
                        "they grant.")
    tls: str = ("Check verify in aws_client_parameters: the path of the CA bundle that signed "
                "the endpoint's certificate (false only for a test server you trust).")


BLOCK_ADVICE = Advice()


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may cure: throttling, 5xx, resets, dropped transfers and
    timeouts; not 403/404, bad parameters or TLS certificate failures."""
    if isinstance(exc, AwsError):
        return exc.retryable
    exc = _unwrap(exc)
    code, status = _code_and_status(exc)
    if code is not None or status is not None:
        return code in _TRANSIENT_CODES or (status is not None and (status >= 500 or status == 429))
    if _is_tls_error(exc):
        return False
    return _is_connection_error(exc) or _is_dropped_transfer(exc)


def is_transient_code(code: str | None) -> bool:
    """True for AWS error codes meaning "slow down" or "try again later"."""
    return code in _TRANSIENT_CODES


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
              client: Any = None, advice: Advice = BLOCK_ADVICE) -> AwsError | None:
    """The AwsError for a botocore (or boto3 transfer) exception, or None when it is not an
    AWS failure; also an instance of the botocore class of the failure (see with_botocore_base).
    """
    if isinstance(exc, AwsError):
        return exc
    error = _translate(_unwrap(exc), endpoint=endpoint, bucket=bucket, key=key,
                       secret_name=secret_name, client=client, advice=advice)
    return None if error is None else with_botocore_base(error, _unwrap(exc))


def _translate(exc: BaseException, *, endpoint: str | None, bucket: str | None,
               key: str | None, secret_name: str | None, client: Any,
               advice: Advice) -> AwsError | None:
    endpoint = endpoint or _endpoint_of(client)
    where = f" at {endpoint}" if endpoint else ""
    thing = _describe(bucket, key, secret_name)
    name = type(exc).__name__
    if _is_tls_error(exc):
        return AwsEndpointError(
            f"The TLS certificate of the AWS endpoint {endpoint or '(default)'} failed the "
            f"check{_tls_reason(exc)}. {advice.tls}", retryable=False)
    if _is_connection_error(exc):
        return AwsEndpointError(
            f"Could not reach the AWS endpoint {endpoint or '(default)'} ({name}). "
            f"{advice.endpoint}", retryable=True)
    if _is_dropped_transfer(exc):
        return AwsEndpointError(
            f"The connection to the AWS endpoint {endpoint or '(default)'} broke off while "
            f"transferring {thing} ({name}). Try again; the S3 tasks retry this on their own.",
            retryable=True)
    if name == "ParamValidationError":
        return _invalid_parameters(exc, thing)
    if name in _CREDENTIAL_PROBLEMS:
        return _credentials_problem(exc)
    code, status = _code_and_status(exc)
    if code is None and status is None:
        return None
    retryable = is_transient(exc)
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
            f"AWS refused the credentials for {thing}{where} ({code}). {advice.credentials}",
            code=code, status=status)
    status_text = f" (HTTP {status})" if status is not None else ""
    return AwsError(f"AWS failed on {thing}{where}: {code}{status_text}.",
                    code=code, status=status, retryable=retryable)


# -- our errors as botocore's too ---------------------------------------------------------------

_WITH_BASE: dict[tuple[type, type], type] = {}  # (our class, botocore class) -> their union


def with_botocore_base(error: AwsError, origin: BaseException) -> AwsError:
    """`error` as an instance of `origin`'s botocore class too, so that `except ClientError`
    (or EndpointConnectionError, NoCredentialsError, ...) still catches it.

    Our message, class and fields stay; botocore's attributes come from origin (`response`
    and `operation_name` of a ClientError, `kwargs` of the others). A modelled error such as
    NoSuchKey maps to ClientError, as botocore makes those classes anew per client. Without
    botocore loaded, or for a failure botocore did not raise, error is returned as is.
    """
    base = _botocore_class(origin)
    if base is None:
        return error
    combined = _combined_class(type(error), base)
    joined = combined.__new__(combined, *error.args)
    joined.args = error.args
    joined.__dict__.update(error.__dict__)
    if hasattr(origin, "response"):
        joined.response = origin.response
        joined.operation_name = getattr(origin, "operation_name", None) or "Unknown"
    joined.kwargs = dict(getattr(origin, "kwargs", None) or {})
    return joined


def _botocore_class(origin: BaseException) -> type | None:
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return None
    if isinstance(origin, (exceptions.ClientError, _QuotedCode)):
        return exceptions.ClientError
    for cls in type(origin).__mro__:  # the nearest class botocore declares itself
        if cls.__module__ == "botocore.exceptions" and issubclass(cls, exceptions.BotoCoreError):
            return cls
    return None


def _combined_class(ours: type, base: type) -> type:
    combined = _WITH_BASE.get((ours, base))
    if combined is None:
        combined = type(ours.__name__, (ours, base), {
            "__module__": ours.__module__, "__qualname__": ours.__qualname__,
            "__doc__": ours.__doc__, "__reduce__": _reduce_combined,
            "_botocore_base": base})
        _WITH_BASE[(ours, base)] = combined
    return combined


def _reduce_combined(self: AwsError) -> tuple[Any, ...]:
    # botocore's own __reduce__ would call our class with its arguments: rebuild ours instead.
    cls = type(self)
    return _rebuild_combined, (cls.__mro__[1], cls._botocore_base, self.args, self.__dict__)


def _rebuild_combined(ours: type, base: type, args: tuple, state: dict) -> AwsError:
    combined = _combined_class(ours, base)
    error = combined.__new__(combined, *args)
    error.args = args
    error.__dict__.update(state)
    return error


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


# botocore quotes the offending values in its report ("value: {'password': ...}"): only the
# parameter names and what is wrong with them are kept.
_PARAM_PROBLEMS = (
    (re.compile(r"Invalid (\w+) for parameter ([\w.\[\]]+)"), "{1} (invalid {0})"),
    (re.compile(r'Missing required parameter in input: "([\w.\[\]]+)"'), "{0} (missing)"),
    (re.compile(r'Unknown parameter in input: "([\w.\[\]]+)"'), "{0} (unknown)"),
)


def _invalid_parameters(exc: BaseException, thing: str) -> AwsError:
    kwargs = getattr(exc, "kwargs", None)
    report = str(kwargs.get("report", "")) if isinstance(kwargs, dict) else str(exc)
    problems = [template.format(*match.groups())
                for pattern, template in _PARAM_PROBLEMS for match in pattern.finditer(report)]
    # The original stays reachable as __context__: it must not carry the values either.
    exc.args = ("Parameter validation failed (values withheld).",)
    if hasattr(exc, "kwargs"):
        exc.kwargs = {"report": "(values withheld)"}
    listed = ", ".join(dict.fromkeys(problems)) or "see the argument types"
    return AwsError(
        f"Invalid request parameters for {thing}: {listed}. Values are not shown; check the "
        "types and lengths of the arguments passed.", code="ParamValidationError")


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


# -- boto3's transfer wrappers ---------------------------------------------------------------

_WRAPPERS = frozenset({"S3UploadFailedError", "S3TransferFailedError", "RetriesExceededError"})
_QUOTED_CODE = re.compile(r"An error occurred \(([\w.-]+)\) when calling the \w+ operation")


class _QuotedCode(Exception):
    """Stands for a ClientError known only from the code a wrapper's text quotes."""

    def __init__(self, code: str):
        super().__init__(code)
        status = int(code) if code.isdigit() else None
        self.response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}


def _unwrap(exc: BaseException) -> BaseException:
    """The error a boto3 transfer wrapper hides.

    `upload_file` raises S3UploadFailedError inside `except ClientError` (so the ClientError
    is its __context__) and quotes the code in its text; `download_file` raises
    RetriesExceededError with the last error (a reset, a timeout) as `last_exception`. A
    wrapper around nothing recognisable is kept: it says enough itself.
    """
    seen: set[int] = set()
    while type(exc).__name__ in _WRAPPERS and id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "last_exception", None) or exc.__cause__ or exc.__context__
        if inner is None or not (_recognised(inner) or type(inner).__name__ in _WRAPPERS):
            match = _QUOTED_CODE.search(str(exc))
            return _QuotedCode(match.group(1)) if match else exc
        exc = inner
    return exc


def _recognised(exc: BaseException) -> bool:
    """True for the errors translate() has a sentence for."""
    return (_code_and_status(exc) != (None, None) or _is_tls_error(exc)
            or _is_connection_error(exc) or _is_dropped_transfer(exc)
            or type(exc).__name__ in _BOTOCORE_CLIENT_SIDE)


_CREDENTIAL_PROBLEMS = frozenset({
    "NoCredentialsError", "PartialCredentialsError", "ProfileNotFound", "NoRegionError",
    "CredentialRetrievalError",
})
_BOTOCORE_CLIENT_SIDE = _CREDENTIAL_PROBLEMS | {"ParamValidationError"}


# -- connection failures, matched by class name so that botocore stays unimported here --------

_CONNECTION_ERRORS = frozenset({
    "EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError",
    "ConnectTimeoutError", "ProxyConnectionError", "ConnectionError",
})
# A connection that breaks while a body is read: after the answer began, so not "unreachable".
_DROPPED_TRANSFER_ERRORS = frozenset({
    "ResponseStreamingError", "IncompleteReadError", "ProtocolError", "IncompleteRead",
    "ChunkedEncodingError", "RetriesExceededError",  # download_file's, when nothing is inside
})
_TLS_ERRORS = frozenset({"SSLError", "SSLCertVerificationError", "CertificateError"})


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _is_tls_error(exc: BaseException) -> bool:
    """botocore's SSLError (a ConnectionError too) or the ssl module's own errors."""
    return not isinstance(exc, AwsError) and bool(_names(exc) & _TLS_ERRORS)


def _is_connection_error(exc: BaseException) -> bool:
    """botocore's (or the OS's) refused, reset or timed-out connections.

    Both botocore's ConnectionError and the built-in one (ConnectionResetError's base) are
    covered; TLS failures, a subclass of botocore's, are not.
    """
    if isinstance(exc, AwsError) or _is_tls_error(exc):
        return False
    return bool(_names(exc) & _CONNECTION_ERRORS)


def _is_dropped_transfer(exc: BaseException) -> bool:
    """A body cut off part-way (botocore, urllib3, http.client, s3transfer's give-up)."""
    if isinstance(exc, AwsError):
        return False
    module = type(exc).__module__.split(".")[0]
    return (type(exc).__name__ in _DROPPED_TRANSFER_ERRORS
            and module in ("botocore", "urllib3", "http", "requests", "boto3", "s3transfer"))


def _tls_reason(exc: BaseException) -> str:
    """' (self-signed certificate)': the ssl module's reason, found in what botocore wraps."""
    pending: list[Any] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        reason = getattr(current, "verify_message", None)
        if isinstance(reason, str) and reason:
            return f" ({reason})"
        if isinstance(current, BaseException):
            kwargs = getattr(current, "kwargs", None)
            wrapped = kwargs.get("error") if isinstance(kwargs, dict) else None
            pending += [wrapped, *current.args, current.__cause__, current.__context__]
    return ""


def _endpoint_of(client: Any) -> str | None:
    return getattr(getattr(client, "meta", None), "endpoint_url", None)


def _bucket_exists(client: Any, bucket: str) -> bool:
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        _, status = _code_and_status(exc)
        return status != 404
    return True
