"""Our errors as botocore's too: an S3ObjectNotFound raised for a NoSuchKey is also a
ClientError, with botocore's `response` and `operation_name`, so `except ClientError` written
for Prefect's integration still catches it. botocore is loaded by then; this module never
imports it.
"""

from __future__ import annotations

import sys
from typing import Any

from prefect_aws.errors import AwsError

_WITH_BASE: dict[tuple[type, type], type] = {}  # (our class, botocore class) -> their union


class QuotedClientError(Exception):
    """Stands for a ClientError known only from the code a boto3 wrapper's text quotes."""

    def __init__(self, code: str):
        super().__init__(code)
        status = int(code) if code.isdigit() else None
        self.response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}


def with_botocore_base(error: AwsError, origin: BaseException) -> AwsError:
    """`error` as an instance of `origin`'s botocore class too.

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
    if isinstance(origin, (exceptions.ClientError, QuotedClientError)):
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
