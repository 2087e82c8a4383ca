"""botocore's exceptions turned into prefect_aws.errors, and which of them are worth retrying.

botocore reports a missing bucket, a wrong key or a refused connection as generic exceptions
whose text names neither the bucket nor what to do, and boto3's transfer methods hide them
inside wrappers (`S3UploadFailedError`, `RetriesExceededError`). `aws_errors()` turns them into
one sentence naming the bucket, key, secret or endpoint involved: by the kind of failure for
those raised on this side (connection, TLS, parameters, missing credentials), by AWS's error
code (prefect_aws.error_codes) for AWS's answers. botocore is loaded by then; this module
never imports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prefect_aws.botocore_classes import QuotedClientError, with_botocore_base
from prefect_aws.error_codes import BLOCK_ADVICE, RULES, TRANSIENT_CODES, Advice, CodeRule
from prefect_aws.errors import AwsCredentialsError, AwsEndpointError, AwsError

__all__ = ["Advice", "aws_errors", "is_transient", "is_transient_code",
           "retry_on_transient_errors", "translate"]


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may cure: throttling, 5xx, resets, dropped transfers and
    timeouts; not 403/404, bad parameters or TLS certificate failures."""
    if isinstance(exc, AwsError):
        return exc.retryable
    exc = _unwrap(exc)
    code, status = _code_and_status(exc)
    if code in RULES:
        return RULES[code].retryable
    if code is not None or status is not None:
        return status is not None and (status >= 500 or status == 429)
    if _is_tls_error(exc):
        return False
    return _is_connection_error(exc) or _is_dropped_transfer(exc)


def is_transient_code(code: str | None) -> bool:
    """True for AWS error codes meaning "slow down" or "try again later"."""
    return code in TRANSIENT_CODES


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
        error = translate(exc, endpoint=endpoint, bucket=bucket, key=key,
                          secret_name=secret_name, client=client)
        if error is None:
            raise
        raise error from None  # botocore's own text adds nothing and may quote request data


def translate(exc: BaseException, *, endpoint: str | None = None, bucket: str | None = None,
              key: str | None = None, secret_name: str | None = None,
              client: Any = None, advice: Advice = BLOCK_ADVICE) -> AwsError | None:
    """The AwsError for a botocore (or boto3 transfer) exception, or None when it is not an
    AWS failure; also an instance of the botocore class of the failure."""
    if isinstance(exc, AwsError):
        return exc
    inner = _unwrap(exc)
    failure = _Failure(inner, endpoint or _endpoint_of(client), bucket, key, secret_name,
                       client, advice)
    for matches, build in _KINDS:
        if matches(inner):
            return with_botocore_base(build(failure), inner)
    error = _from_code(failure)
    return None if error is None else with_botocore_base(error, inner)


@dataclass
class _Failure:
    """One exception and what the call was about: what the sentences are made of."""

    exc: BaseException
    endpoint: str | None
    bucket: str | None
    key: str | None
    secret_name: str | None
    client: Any
    advice: Advice

    @property
    def thing(self) -> str:
        if self.secret_name:
            return f"secret {self.secret_name!r}"
        if self.bucket and self.key:
            return f"object {self.key!r} in S3 bucket {self.bucket!r}"
        if self.bucket:
            return f"S3 bucket {self.bucket!r}"
        return "the request"

    @property
    def endpoint_name(self) -> str:
        return self.endpoint or "(default)"

    @property
    def where(self) -> str:
        return f" at {self.endpoint}" if self.endpoint else ""


# -- failures on this side, by their kind --------------------------------------------------------

def _tls_failure(f: _Failure) -> AwsError:
    return AwsEndpointError(
        f"The TLS certificate of the AWS endpoint {f.endpoint_name} failed the check"
        f"{_tls_reason(f.exc)}. {f.advice.tls}", retryable=False)


def _unreachable(f: _Failure) -> AwsError:
    return AwsEndpointError(
        f"Could not reach the AWS endpoint {f.endpoint_name} ({type(f.exc).__name__}). "
        f"{f.advice.endpoint}", retryable=True)


def _dropped(f: _Failure) -> AwsError:
    return AwsEndpointError(
        f"The connection to the AWS endpoint {f.endpoint_name} broke off while transferring "
        f"{f.thing} ({type(f.exc).__name__}). Try again; the S3 tasks retry this on their own.",
        retryable=True)


# botocore quotes the offending values in its report ("value: {'password': ...}"): only the
# parameter names and what is wrong with them are kept.
_PARAM_PROBLEMS = (
    (re.compile(r"Invalid (\w+) for parameter ([\w.\[\]]+)"), "{1} (invalid {0})"),
    (re.compile(r'Missing required parameter in input: "([\w.\[\]]+)"'), "{0} (missing)"),
    (re.compile(r'Unknown parameter in input: "([\w.\[\]]+)"'), "{0} (unknown)"),
)


def _invalid_parameters(f: _Failure) -> AwsError:
    exc = f.exc
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
        f"Invalid request parameters for {f.thing}: {listed}. Values are not shown; check the "
        "types and lengths of the arguments passed.", code="ParamValidationError")


_NO_CREDENTIALS = ("No AWS credentials found: set aws_access_key_id and aws_secret_access_key "
                   "on the credentials block, or provide them through the environment, a "
                   "profile or a role.")
_CREDENTIALS_PROBLEMS = {  # botocore's class name -> the sentence
    "ProfileNotFound": ("No AWS profile named {profile!r} in the AWS config files. Fix "
                        "profile_name, or run: aws configure --profile NAME."),
    "NoRegionError": ("No AWS region is set. Set region_name on the credentials block, or "
                      "AWS_REGION."),
    "PartialCredentialsError": ("Incomplete AWS credentials: set both aws_access_key_id and "
                                "aws_secret_access_key."),
    "NoCredentialsError": _NO_CREDENTIALS,
    "CredentialRetrievalError": _NO_CREDENTIALS,
}


def _credentials_problem(f: _Failure) -> AwsError:
    profile = (getattr(f.exc, "kwargs", None) or {}).get("profile", "?")
    return AwsCredentialsError(_CREDENTIALS_PROBLEMS[type(f.exc).__name__].format(
        profile=profile))


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


def _is_invalid_parameters(exc: BaseException) -> bool:
    return type(exc).__name__ == "ParamValidationError"


def _is_credentials_problem(exc: BaseException) -> bool:
    return type(exc).__name__ in _CREDENTIALS_PROBLEMS


# The first that matches tells the failure's kind; AWS's answers, with a code, come after.
_KINDS: tuple[tuple[Callable[[BaseException], bool], Callable[[_Failure], AwsError]], ...] = (
    (_is_tls_error, _tls_failure),
    (_is_connection_error, _unreachable),
    (_is_dropped_transfer, _dropped),
    (_is_invalid_parameters, _invalid_parameters),
    (_is_credentials_problem, _credentials_problem),
)


# -- AWS's answers, by their error code ----------------------------------------------------------

def _from_code(f: _Failure) -> AwsError | None:
    code, status = _code_and_status(f.exc)
    if code is None and status is None:
        return None
    f.bucket = _error_field(f.exc, "BucketName") or f.bucket  # a copy's target, for one
    rule = RULES.get(_s3_code(code, f))
    if rule is not None and _applies(rule, f):
        storage_class = _error_field(f.exc, "StorageClass")
        text = rule.sentence.format(
            thing=f.thing, Thing=f.thing[0].upper() + f.thing[1:], where=f.where,
            bucket=f.bucket, key=f.key, secret_name=f.secret_name, code=code,
            storage_class=f" ({storage_class})" if storage_class else "", advice=f.advice)
        return rule.error(text, code=code, status=status, retryable=rule.retryable)
    if status == 403:
        return AwsCredentialsError(
            f"AWS refused the request for {f.thing}{f.where} ({code}). {f.advice.credentials}",
            code=code, status=status)
    status_text = f" (HTTP {status})" if status is not None else ""
    return AwsError(f"AWS failed on {f.thing}{f.where}: {code}{status_text}.",
                    code=code, status=status, retryable=is_transient(f.exc))


def _applies(rule: CodeRule, f: _Failure) -> bool:
    return (all(getattr(f, name) for name in rule.needs)
            and rule.message_has in (_error_field(f.exc, "Message") or "").lower())


_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


def _s3_code(code: str | None, f: _Failure) -> str | None:
    """The code, with S3's bare 404 (a HEAD answer has no body) told apart: a missing bucket
    or a missing key."""
    if code not in _MISSING or not f.bucket:
        return code
    if not f.key:
        return "NoSuchBucket"
    if code != "NoSuchKey" and f.client is not None and not _bucket_exists(f.client, f.bucket):
        return "NoSuchBucket"
    return "NoSuchKey"


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


# -- boto3's transfer wrappers ---------------------------------------------------------------

_WRAPPERS = frozenset({"S3UploadFailedError", "S3TransferFailedError", "RetriesExceededError"})
_QUOTED_CODE = re.compile(r"An error occurred \(([\w.-]+)\) when calling the \w+ operation")


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
            return QuotedClientError(match.group(1)) if match else exc
        exc = inner
    return exc


def _recognised(exc: BaseException) -> bool:
    """True for the errors translate() has a sentence for."""
    return (_code_and_status(exc) != (None, None)
            or any(matches(exc) for matches, _ in _KINDS))


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
