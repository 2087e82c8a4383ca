"""S3 tasks: download, upload, list, copy, move and delete, retrying transient AWS failures.

Each task retries three times (after about 1, 2 and 4 s) on throttling, 5xx answers and
dropped or refused connections, and never on client errors such as 403 or 404, which a retry
cannot cure. Prefect's names work too: `download_from_bucket`, `copy_objects` and
`move_objects` are these tasks under another name; `upload_to_bucket` and `list_objects` take
Prefect's argument order (aws_client_parameters fourth, resp. third); `adownload_from_bucket`,
`aupload_to_bucket`, `alist_objects`, `acopy_objects` and `amove_objects` are their async
twins, running the transfer in a worker thread. The sync names follow Prefect 3's rule
(core_blocks.dispatch): in an async flow `await s3_upload(...)` runs the same task in a worker
thread, in a sync one `s3_upload(...)` returns the key. Import them from `prefect_aws.s3`:

    from prefect_aws import AwsCredentials
    from prefect_aws.s3 import s3_upload, s3_download

    key = s3_upload(b"hello", "raw", AwsCredentials.load("prod"), key="greeting.txt")
    assert s3_download("raw", key, AwsCredentials.load("prod")) == b"hello"
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from core_blocks.dispatch import threaded_dispatch
from core_blocks.tasks import exponential_backoff, task
from prefect_aws import objects
from prefect_aws.client_parameters import AwsClientParameters
from prefect_aws.credentials import AwsCredentials, MinIOCredentials
from prefect_aws.error_translation import retry_on_transient_errors

Credentials = AwsCredentials | MinIOCredentials

_RETRYING = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(1),
    "retry_jitter_factor": 0.2,  # spreads out clients throttled at the same moment
    "retry_condition_fn": retry_on_transient_errors,
}


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig()


@threaded_dispatch
@task(**_RETRYING)
def s3_download(bucket: str, key: str, aws_credentials: Credentials,
                aws_client_parameters: AwsClientParameters | None = None) -> bytes:
    """The content of bucket/key.

        >>> s3_download("raw", "2026/11/24.csv", AwsCredentials.load("prod"))  # doctest: +SKIP
        b'id,amount\\n...'
    """
    return _download(bucket, key, aws_credentials, aws_client_parameters)


@threaded_dispatch
@task(**_RETRYING)
def s3_upload(data: bytes, bucket: str, aws_credentials: Credentials, key: str | None = None,
              aws_client_parameters: AwsClientParameters | None = None) -> str:
    """Store data at bucket/key (a new UUID key when none is given); return the key.

        >>> creds = AwsCredentials.load("prod")  # doctest: +SKIP
        >>> s3_upload(b"id,amount\\n", "raw", creds, key="a.csv")  # doctest: +SKIP
        'a.csv'
    """
    return _upload(data, bucket, aws_credentials, key, aws_client_parameters)


@threaded_dispatch
@task(**_RETRYING)
def s3_list_objects(bucket: str, aws_credentials: Credentials, prefix: str = "",
                    delimiter: str = "", page_size: int | None = None,
                    max_items: int | None = None, jmespath_query: str | None = None,
                    aws_client_parameters: AwsClientParameters | None = None) -> list[dict]:
    """The objects under prefix, as S3 describes them (Key, Size, ETag, LastModified, ...).

    With a delimiter only the objects directly under prefix are listed; `jmespath_query`
    returns what it picks from each page instead (e.g. "Contents[?Size > `0`].Key").

        >>> [o["Key"] for o in s3_list_objects("raw", AwsCredentials.load("prod"),
        ...                                    prefix="2026/")]  # doctest: +SKIP
        ['2026/11/24.csv']
    """
    return _list(bucket, aws_credentials, aws_client_parameters, prefix, delimiter, page_size,
                 max_items, jmespath_query)


@threaded_dispatch
@task(**_RETRYING)
def s3_copy(source_path: str, target_path: str, source_bucket_name: str,
            aws_credentials: Credentials, target_bucket_name: str | None = None,
            **copy_kwargs: Any) -> str:
    """Copy an object inside S3 (to target_bucket_name, default the same bucket); return
    target_path. copy_kwargs go to S3 as ExtraArgs (e.g. StorageClass="GLACIER").

        >>> s3_copy("a.csv", "archive/a.csv", "raw", AwsCredentials.load("prod"))  # doctest: +SKIP
        'archive/a.csv'
    """
    return _copy(source_path, target_path, source_bucket_name, aws_credentials,
                 target_bucket_name, copy_kwargs)


@threaded_dispatch
@task(**_RETRYING)
def s3_move(source_path: str, target_path: str, source_bucket_name: str,
            aws_credentials: Credentials, target_bucket_name: str | None = None) -> str:
    """Copy an object, then delete the original; return target_path.

        >>> s3_move("in/a.csv", "done/a.csv", "raw", AwsCredentials.load("prod"))  # doctest: +SKIP
        'done/a.csv'
    """
    return _move(source_path, target_path, source_bucket_name, aws_credentials,
                 target_bucket_name)


@threaded_dispatch
@task(**_RETRYING)
def s3_delete(bucket: str, key: str, aws_credentials: Credentials) -> str:
    """Delete bucket/key (an absent key is fine, as in S3); return the key.

        >>> s3_delete("raw", "tmp/a.csv", AwsCredentials.load("prod"))  # doctest: +SKIP
        'tmp/a.csv'
    """
    objects.delete_object(aws_credentials.get_s3_client(), bucket, key)
    return key


# -- Prefect's names -------------------------------------------------------------------------

download_from_bucket = s3_download
copy_objects = s3_copy
move_objects = s3_move


@threaded_dispatch
@task(**_RETRYING)
def upload_to_bucket(data: bytes, bucket: str, aws_credentials: Credentials,
                     aws_client_parameters: AwsClientParameters | None = None,
                     key: str | None = None) -> str:
    """s3_upload in Prefect's argument order: store data at bucket/key (a new UUID key when
    none is given); return the key."""
    return _upload(data, bucket, aws_credentials, key, aws_client_parameters)


@threaded_dispatch
@task(**_RETRYING)
def list_objects(bucket: str, aws_credentials: Credentials,
                 aws_client_parameters: AwsClientParameters | None = None, prefix: str = "",
                 delimiter: str = "", page_size: int | None = None,
                 max_items: int | None = None, jmespath_query: str | None = None
                 ) -> list[dict]:
    """s3_list_objects in Prefect's argument order: the objects under prefix, as S3
    describes them."""
    return _list(bucket, aws_credentials, aws_client_parameters, prefix, delimiter, page_size,
                 max_items, jmespath_query)


@task(**_RETRYING)
async def adownload_from_bucket(bucket: str, key: str, aws_credentials: Credentials,
                                aws_client_parameters: AwsClientParameters | None = None
                                ) -> bytes:
    """s3_download for async code: the content of bucket/key."""
    return await asyncio.to_thread(_download, bucket, key, aws_credentials,
                                   aws_client_parameters)


@task(**_RETRYING)
async def aupload_to_bucket(data: bytes, bucket: str, aws_credentials: Credentials,
                            aws_client_parameters: AwsClientParameters | None = None,
                            key: str | None = None) -> str:
    """upload_to_bucket for async code: store data at bucket/key; return the key."""
    return await asyncio.to_thread(_upload, data, bucket, aws_credentials, key,
                                   aws_client_parameters)


@task(**_RETRYING)
async def alist_objects(bucket: str, aws_credentials: Credentials,
                        aws_client_parameters: AwsClientParameters | None = None,
                        prefix: str = "", delimiter: str = "", page_size: int | None = None,
                        max_items: int | None = None, jmespath_query: str | None = None
                        ) -> list[dict]:
    """list_objects for async code: the objects under prefix, as S3 describes them."""
    return await asyncio.to_thread(_list, bucket, aws_credentials, aws_client_parameters,
                                   prefix, delimiter, page_size, max_items, jmespath_query)


@task(**_RETRYING)
async def acopy_objects(source_path: str, target_path: str, source_bucket_name: str,
                        aws_credentials: Credentials, target_bucket_name: str | None = None,
                        **copy_kwargs: Any) -> str:
    """s3_copy for async code: copy an object inside S3; return target_path."""
    return await asyncio.to_thread(_copy, source_path, target_path, source_bucket_name,
                                   aws_credentials, target_bucket_name, copy_kwargs)


@task(**_RETRYING)
async def amove_objects(source_path: str, target_path: str, source_bucket_name: str,
                        aws_credentials: Credentials, target_bucket_name: str | None = None
                        ) -> str:
    """s3_move for async code: copy an object, then delete the original; return
    target_path."""
    return await asyncio.to_thread(_move, source_path, target_path, source_bucket_name,
                                   aws_credentials, target_bucket_name)


# -- what the sync and async tasks do --------------------------------------------------------

def _download(bucket: str, key: str, credentials: Credentials,
              params: AwsClientParameters | None) -> bytes:
    return objects.read_object(credentials.get_s3_client(params), bucket, key)


def _upload(data: bytes, bucket: str, credentials: Credentials, key: str | None,
            params: AwsClientParameters | None) -> str:
    key = key or str(uuid.uuid4())
    objects.write_object(credentials.get_s3_client(params), bucket, key, data,
                         _transfer_config())
    return key


def _list(bucket: str, credentials: Credentials, params: AwsClientParameters | None,
          prefix: str, delimiter: str, page_size: int | None, max_items: int | None,
          jmespath_query: str | None) -> list[Any]:
    return objects.search_objects(credentials.get_s3_client(params), bucket, prefix,
                                  delimiter, page_size, max_items, jmespath_query)


def _copy(source_path: str, target_path: str, source_bucket: str, credentials: Credentials,
          target_bucket: str | None, copy_kwargs: dict[str, Any]) -> str:
    objects.copy_object(credentials.get_s3_client(), source_bucket, source_path,
                        target_bucket or source_bucket, target_path, _transfer_config(),
                        copy_kwargs)
    return target_path


def _move(source_path: str, target_path: str, source_bucket: str, credentials: Credentials,
          target_bucket: str | None) -> str:
    target_bucket = target_bucket or source_bucket
    if (target_bucket, target_path) == (source_bucket, source_path):
        return target_path  # a move onto itself: nothing to do (S3 would refuse the copy)
    client = credentials.get_s3_client()
    objects.copy_object(client, source_bucket, source_path, target_bucket, target_path,
                        _transfer_config())
    objects.delete_object(client, source_bucket, source_path)
    return target_path
