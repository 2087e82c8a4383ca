"""S3 calls on one bucket and key, raising errors that name them; S3Bucket and the tasks share them.

Every function takes a boto3 S3 client and raw keys: path rules (a bucket folder, refusing
`..`) belong to S3Bucket, not here.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from prefect_aws.error_translation import aws_errors, is_transient_code
from prefect_aws.errors import AwsError

_DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys per request
_SHOWN = 3  # failed keys named in an error message


def read_object(client: Any, bucket: str, key: str) -> bytes:
    """The whole content of one object."""
    with aws_errors(bucket=bucket, key=key, client=client):
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return body.read()
        finally:
            body.close()


def write_object(client: Any, bucket: str, key: str, data: bytes, config: Any) -> None:
    """Store data under key: one PUT below the multipart threshold, else a multipart upload."""
    with aws_errors(bucket=bucket, key=key, client=client):
        if len(data) < config.multipart_threshold:
            client.put_object(Bucket=bucket, Key=key, Body=data)
        else:
            client.upload_fileobj(io.BytesIO(data), bucket, key, Config=config)


def copy_object(client: Any, source_bucket: str, source_key: str, target_bucket: str,
                target_key: str, config: Any, extra_args: dict[str, Any] | None = None) -> None:
    """Copy inside S3 (no download): multipart copy above the threshold, so any size works."""
    with aws_errors(bucket=source_bucket, key=source_key, client=client):
        client.copy({"Bucket": source_bucket, "Key": source_key}, target_bucket, target_key,
                    ExtraArgs=extra_args or None, Config=config)


def delete_object(client: Any, bucket: str, key: str) -> None:
    """Delete one object; an absent key is fine, as in S3 itself."""
    with aws_errors(bucket=bucket, key=key, client=client):
        client.delete_object(Bucket=bucket, Key=key)


def delete_objects(client: Any, bucket: str, keys: Iterable[str]) -> list[str]:
    """Delete many objects, 1,000 per request; return the keys deleted.

    Every batch is tried, even after one fails. Then, if any key could not be deleted, one
    AwsError names a few of them and the count; its `failed_keys` lists them all and
    `deleted_keys` those that were deleted.
    """
    keys = list(keys)
    deleted: list[str] = []
    failed: list[tuple[str, str, bool]] = []  # (key, error code, retryable)
    request_errors: list[AwsError] = []
    batches = range(0, len(keys), _DELETE_BATCH)
    for start in batches:
        batch = keys[start:start + _DELETE_BATCH]
        try:
            with aws_errors(bucket=bucket, client=client):
                response = client.delete_objects(
                    Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch],
                                           "Quiet": False})
        except AwsError as exc:
            request_errors.append(exc)
            failed.extend((key, exc.code or type(exc).__name__, exc.retryable) for key in batch)
            continue
        for item in response.get("Errors") or []:
            code = str(item.get("Code", "?"))
            failed.append((str(item.get("Key", "?")), code, is_transient_code(code)))
        deleted.extend(item["Key"] for item in response.get("Deleted", []))
    if not failed:
        return deleted
    if len(request_errors) == len(batches):
        raise request_errors[0]  # no request went through: a missing bucket, no permission...
    raise _partial_delete_error(client, bucket, len(keys), failed, deleted)


def _partial_delete_error(client: Any, bucket: str, total: int,
                          failed: list[tuple[str, str, bool]], deleted: list[str]) -> AwsError:
    shown = ", ".join(f"{key!r} ({code})" for key, code, _ in failed[:_SHOWN])
    more = f" and {len(failed) - _SHOWN} more" if len(failed) > _SHOWN else ""
    endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
    where = f" at {endpoint}" if endpoint else ""
    error = AwsError(
        f"Could not delete {len(failed)} of {total} object(s) from S3 bucket {bucket!r}{where} "
        f"({len(deleted)} deleted): {shown}{more}. Fix the cause (for AccessDenied, the "
        "credentials need s3:DeleteObject) and delete the failed keys again.",
        code=failed[0][1], retryable=all(retryable for _, _, retryable in failed))
    error.failed_keys = [key for key, _, _ in failed]
    error.deleted_keys = deleted
    return error


def list_pages(client: Any, bucket: str, prefix: str = "", delimiter: str = "",
               page_size: int | None = None, max_items: int | None = None) -> Any:
    """A list_objects_v2 page iterator (lazy: errors surface while iterating)."""
    for name, value in (("page_size", page_size), ("max_items", max_items)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a whole number ≥ 1, not {value!r}.")
    pagination = {k: v for k, v in (("PageSize", page_size), ("MaxItems", max_items))
                  if v is not None}
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        kwargs["Delimiter"] = delimiter
    return client.get_paginator("list_objects_v2").paginate(**kwargs, PaginationConfig=pagination)


def search_objects(client: Any, bucket: str, prefix: str = "", delimiter: str = "",
                   page_size: int | None = None, max_items: int | None = None,
                   jmespath_query: str | None = None) -> list[Any]:
    """The objects' metadata dicts under prefix, or what jmespath_query picks from each page.

        >>> search_objects(client, "raw", prefix="2026/",
        ...                jmespath_query="Contents[?Size > `0`].Key")  # doctest: +SKIP
        ['2026/a.csv', '2026/b.csv']
    """
    pages = list_pages(client, bucket, prefix, delimiter, page_size, max_items)
    with aws_errors(bucket=bucket, client=client):
        if not jmespath_query:
            return [obj for page in pages for obj in page.get("Contents", [])]
        try:
            return [item for item in pages.search(jmespath_query) if item is not None]
        except Exception as exc:
            if not type(exc).__module__.startswith("jmespath"):
                raise
            raise ValueError(f"jmespath_query {jmespath_query!r} is not a valid JMESPath "
                             f"expression: {exc}. See https://jmespath.org.") from None
