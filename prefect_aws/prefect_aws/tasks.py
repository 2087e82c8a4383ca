"""S3 tasks: download, upload, list, copy, move and delete, retrying transient AWS failures.

Each task retries three times (after about 1, 2 and 4 s) on throttling, 5xx answers and
dropped or refused connections, and never on client errors such as 403 or 404, which a retry
cannot cure. Import them from `prefect_aws.s3`:

    from prefect_aws import AwsCredentials
    from prefect_aws.s3 import s3_upload, s3_download

    key = s3_upload(b"hello", "raw", AwsCredentials.load("prod"), key="greeting.txt")
    assert s3_download("raw", key, AwsCredentials.load("prod")) == b"hello"
"""

from __future__ import annotations

import uuid
from typing import Any

from core_blocks.tasks import exponential_backoff, task
from prefect_aws import objects
from prefect_aws.client_parameters import AwsClientParameters
from prefect_aws.credentials import AwsCredentials, MinIOCredentials
from prefect_aws.errors import retry_on_transient_errors

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


@task(**_RETRYING)
def s3_download(bucket: str, key: str, aws_credentials: Credentials,
                aws_client_parameters: AwsClientParameters | None = None) -> bytes:
    """The content of bucket/key.

        >>> s3_download("raw", "2026/11/24.csv", AwsCredentials.load("prod"))  # doctest: +SKIP
        b'id,amount\\n...'
    """
    client = aws_credentials.get_s3_client(aws_client_parameters)
    return objects.read_object(client, bucket, key)


@task(**_RETRYING)
def s3_upload(data: bytes, bucket: str, aws_credentials: Credentials, key: str | None = None,
              aws_client_parameters: AwsClientParameters | None = None) -> str:
    """Store data at bucket/key (a new UUID key when none is given); return the key.

        >>> creds = AwsCredentials.load("prod")  # doctest: +SKIP
        >>> s3_upload(b"id,amount\\n", "raw", creds, key="a.csv")  # doctest: +SKIP
        'a.csv'
    """
    key = key or str(uuid.uuid4())
    client = aws_credentials.get_s3_client(aws_client_parameters)
    objects.write_object(client, bucket, key, data, _transfer_config())
    return key


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
    client = aws_credentials.get_s3_client(aws_client_parameters)
    return objects.search_objects(client, bucket, prefix, delimiter, page_size, max_items,
                                  jmespath_query)


@task(**_RETRYING)
def s3_copy(source_path: str, target_path: str, source_bucket_name: str,
            aws_credentials: Credentials, target_bucket_name: str | None = None,
            **copy_kwargs: Any) -> str:
    """Copy an object inside S3 (to target_bucket_name, default the same bucket); return
    target_path. copy_kwargs go to S3 as ExtraArgs (e.g. StorageClass="GLACIER").

        >>> s3_copy("a.csv", "archive/a.csv", "raw", AwsCredentials.load("prod"))  # doctest: +SKIP
        'archive/a.csv'
    """
    client = aws_credentials.get_s3_client()
    objects.copy_object(client, source_bucket_name, source_path,
                        target_bucket_name or source_bucket_name, target_path,
                        _transfer_config(), copy_kwargs)
    return target_path


@task(**_RETRYING)
def s3_move(source_path: str, target_path: str, source_bucket_name: str,
            aws_credentials: Credentials, target_bucket_name: str | None = None) -> str:
    """Copy an object, then delete the original; return target_path.

        >>> s3_move("in/a.csv", "done/a.csv", "raw", AwsCredentials.load("prod"))  # doctest: +SKIP
        'done/a.csv'
    """
    target_bucket = target_bucket_name or source_bucket_name
    if (target_bucket, target_path) == (source_bucket_name, source_path):
        return target_path
    client = aws_credentials.get_s3_client()
    objects.copy_object(client, source_bucket_name, source_path, target_bucket, target_path,
                        _transfer_config())
    objects.delete_object(client, source_bucket_name, source_path)
    return target_path


@task(**_RETRYING)
def s3_delete(bucket: str, key: str, aws_credentials: Credentials) -> str:
    """Delete bucket/key (an absent key is fine, as in S3); return the key.

        >>> s3_delete("raw", "tmp/a.csv", AwsCredentials.load("prod"))  # doctest: +SKIP
        'tmp/a.csv'
    """
    objects.delete_object(aws_credentials.get_s3_client(), bucket, key)
    return key
