"""S3Bucket: an S3 bucket (or a folder in one) as object storage; the S3 tasks load from here.

`from prefect_aws.s3 import s3_upload` works too: the tasks live in prefect_aws.tasks and load
on first use, so that registering S3Bucket does not start the task runtime. So do Prefect's
names for them (`download_from_bucket`, `aupload_to_bucket`, ...; see prefect_aws.tasks).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import Field, field_validator

from core_blocks.abstract import ObjectStorageBlock
from core_blocks.dispatch import threaded_dispatch
from core_blocks.errors import StoragePathError
from prefect_aws import ignore_files, objects, transfers
from prefect_aws.credentials import AwsCredentials, MinIOCredentials
from prefect_aws.error_translation import aws_errors
from prefect_aws.errors import LocalPathNotFound
from prefect_aws.listing import S3Object

_MiB = 1024 * 1024
_MIN_PART = 5 * _MiB  # S3 refuses smaller parts, except the last one
_TASKS = ("s3_download", "s3_upload", "s3_list_objects", "s3_copy", "s3_move", "s3_delete",
          # Prefect's names: aliases, or the same work in Prefect's argument order
          "download_from_bucket", "upload_to_bucket", "list_objects", "copy_objects",
          "move_objects", "adownload_from_bucket", "aupload_to_bucket", "alist_objects",
          "acopy_objects", "amove_objects")


# S3's bucket naming rules (MinIO follows them), from the S3 user guide.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")


class S3Bucket(ObjectStorageBlock):
    """An S3 bucket, or a folder in one, used as object storage.

    Paths are relative to `bucket_folder`; a path that climbs out of it (`../`) is refused.
    Transfers stream (no file is read whole into memory), use multipart above
    `multipart_threshold`, and show a progress bar on an interactive terminal.

        >>> bucket = S3Bucket(bucket_name="raw", bucket_folder="exports",
        ...                   credentials=AwsCredentials(region_name="eu-west-1"))
        >>> bucket.upload_from_path("export.csv", "2026/11/24.csv")  # doctest: +SKIP
        '2026/11/24.csv'
    """

    _block_type_name = "S3 Bucket"
    _documentation_url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html"

    bucket_name: str = Field(description="Bucket to read and write; must already exist")
    credentials: AwsCredentials | MinIOCredentials = Field(
        default_factory=AwsCredentials,
        description="aws-credentials or minio-credentials block; boto3's defaults when empty")
    bucket_folder: str = Field(
        default="", description="Folder inside the bucket that every path is relative to")
    multipart_threshold: int = Field(
        default=8 * _MiB, ge=_MIN_PART,
        description="Size in bytes from which uploads and copies go in parts (≥ 5 MiB)")
    multipart_chunksize: int = Field(
        default=8 * _MiB, ge=_MIN_PART, description="Part size in bytes (≥ 5 MiB)")
    max_concurrency: int = Field(
        default=10, ge=1, le=256,
        description="Parts and files transferred at once; also the connection pool size")

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name_is_plain(cls, value: str) -> str:
        if not _BUCKET_NAME.fullmatch(value) or ".." in value or _IP_ADDRESS.fullmatch(value):
            raise ValueError("must follow S3's bucket naming rules: 3 to 63 lowercase letters, "
                             "digits, dots and hyphens, starting and ending with a letter or "
                             "digit, not shaped like an IP address (e.g. 'raw-data')")
        return value

    @field_validator("bucket_folder", mode="before")
    @classmethod
    def _no_folder(cls, value: Any) -> Any:
        return "" if value is None else value  # Prefect's blocks take None for "no folder"

    @field_validator("bucket_folder")
    @classmethod
    def _folder_stays_in_bucket(cls, value: str) -> str:
        parts = [p for p in value.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise ValueError("must not contain '..'")
        return "/".join(parts)

    # -- paths -----------------------------------------------------------------------

    @property
    def transfer_config(self) -> Any:
        """The boto3 TransferConfig built from the multipart and concurrency fields.

        Uploads from a file object hold at most max_concurrency parts in memory (boto3's
        default, 10, matches the default max_concurrency).
        """
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=self.multipart_threshold,
                                multipart_chunksize=self.multipart_chunksize,
                                max_concurrency=self.max_concurrency)
        config.max_in_memory_upload_chunks = self.max_concurrency  # not an __init__ argument
        return config

    def _client(self) -> Any:
        """The credentials' S3 client, its connection pool raised to max_concurrency if lower
        (a smaller pool would make the extra transfer threads drop connections)."""
        params = self.credentials.aws_client_parameters
        if params.config.get("max_pool_connections", 10) < self.max_concurrency:
            config = {**params.config, "max_pool_connections": self.max_concurrency}
            params = params.model_copy(update={"config": config})
        return self.credentials.get_s3_client(params)

    def _key(self, path: str | Path) -> str:
        """The S3 key for a path relative to bucket_folder; refuses paths that escape it.

        A path that already starts with bucket_folder (a full key, as listings' obj["Key"]
        and Prefect's methods return) is taken as that key, not prefixed twice, as Prefect
        does."""
        parts: list[str] = []
        for part in str(path).split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise StoragePathError(
                        f"Path {str(path)!r} escapes the s3-bucket folder "
                        f"{self._location()!r}: use a path inside it, without '..'.")
                parts.pop()
            else:
                parts.append(part)
        joined = "/".join(parts)
        if self._folder and (joined == self._folder or joined.startswith(self._folder + "/")):
            return joined
        return "/".join(([self._folder] if self._folder else []) + parts)

    def _resolve_path(self, path: str | Path) -> str:
        """The full S3 key of path (Prefect's name for `_key`)."""
        return self._key(path)

    @property
    def _folder(self) -> str:
        return self.bucket_folder.strip("/")  # also when assigned after validation

    def _relative(self, key: str) -> str:
        if self._folder and key.startswith(self._folder + "/"):
            return key[len(self._folder) + 1:]
        return "" if key == self._folder else key

    def _object_key(self, path: str | Path) -> str:
        """The S3 key of one object: like _key, but a path naming no object ('', '.', 'a/..',
        which would be the folder itself) is refused."""
        key = self._key(path)
        if not self._relative(key):
            raise StoragePathError(
                f"Path {str(path)!r} names no object: it resolves to the s3-bucket folder "
                f"{self._location()!r} itself. Give a file path inside it, such as 'a/b.csv'.")
        return key

    def _prefix(self, folder: str) -> str:
        key = self._key(folder)
        return f"{key}/" if key else ""

    def _location(self) -> str:
        return posixpath.join(self.bucket_name, self._folder) if self._folder \
            else self.bucket_name

    # -- ObjectStorageBlock ----------------------------------------------------------

    @threaded_dispatch
    def read_path(self, path: str) -> bytes:
        """The content of the object at path (read whole: use the download methods for big
        objects)."""
        return objects.read_object(self._client(), self.bucket_name, self._object_key(path))

    @threaded_dispatch
    def write_path(self, path: str, content: bytes) -> str:
        """Store content at path; return the path."""
        key = self._object_key(path)
        objects.write_object(self._client(), self.bucket_name, key, content,
                             self.transfer_config)
        return self._relative(key)

    @threaded_dispatch
    def list_objects(self, folder: str = "", delimiter: str = "", page_size: int | None = None,
                     max_items: int | None = None, jmespath_query: str | None = None
                     ) -> list[Any]:
        """Paths under folder, relative to bucket_folder and sorted: each an `S3Object`, a
        str that also reads as S3's description of the object, as Prefect's returns it
        (`obj["Key"]` is the full key, `obj["Size"]`, `obj["LastModified"]`...).

        With `delimiter="/"` only folder's direct children are listed, sub-folders as
        "sub/". `page_size` sets the keys fetched per request, `max_items` caps the total.
        `jmespath_query` returns what the query picks from each list_objects_v2 page
        instead, e.g. "Contents[?Size > `1024`].Key" (full keys, unsorted).
        """
        found = objects.search_objects(
            self._client(), self.bucket_name, self._prefix(folder), delimiter, page_size,
            max_items, jmespath_query or "[Contents[], CommonPrefixes[]][]")
        if jmespath_query:
            return found
        listed = (S3Object(self._relative(item.get("Key") or item["Prefix"]), item)
                  for item in found)
        return sorted(listed, key=str)

    @threaded_dispatch
    def upload_from_path(self, from_path: str | Path, to_path: str | None = None) -> str:
        """Stream a local file to to_path (default: the file's name); return the path."""
        source = _existing(Path(from_path), "file")
        key = self._object_key(source.name if to_path is None else to_path)
        transfers.upload_file(self._client(), source, self.bucket_name, key,
                              self.transfer_config)
        return self._relative(key)

    @threaded_dispatch
    def download_object_to_path(self, from_path: str, to_path: str | Path | None = None
                                ) -> Path:
        """Stream an object to a local file (parent folders created; default: the object's
        name in the working directory); return its path."""
        destination = Path(posixpath.basename(self._object_key(from_path)) if to_path is None
                           else to_path)
        transfers.download_file(self._client(), self.bucket_name, self._object_key(from_path),
                                destination, self.transfer_config)
        return destination

    @threaded_dispatch
    def upload_from_file_object(self, from_file_object: BinaryIO, to_path: str) -> str:
        """Stream a readable binary file object to to_path; return the path."""
        key = self._object_key(to_path)
        transfers.upload_stream(self._client(), from_file_object, self.bucket_name, key,
                                self.transfer_config)
        return self._relative(key)

    @threaded_dispatch
    def download_object_to_file_object(self, from_path: str, to_file_object: BinaryIO
                                       ) -> BinaryIO:
        """Stream an object into a writable binary file object; return it."""
        transfers.download_stream(self._client(), self.bucket_name, self._object_key(from_path),
                                  to_file_object, self.transfer_config)
        return to_file_object

    @threaded_dispatch
    def upload_from_folder(self, from_folder: str | Path, to_folder: str | None = None) -> str:
        """Upload every file under a local folder concurrently, keeping relative paths.

        Returns the target folder (relative to bucket_folder).
        """
        source = _existing(Path(from_folder), "folder")
        prefix = self._prefix(to_folder or "")
        pairs = [(file, prefix + relative) for file, relative in transfers.local_files(source)]
        if not pairs:  # likely the wrong folder: say so rather than succeed in silence
            transfers.logger.warning("No files were uploaded from %s: it holds none.", source)
        transfers.upload_many(self._client(), self.bucket_name, pairs, self.transfer_config)
        return self._relative(prefix.rstrip("/"))

    @threaded_dispatch
    def download_folder_to_path(self, from_folder: str, to_folder: str | Path | None = None
                                ) -> Path:
        """Download every object under from_folder concurrently into a local folder (default:
        the working directory).

        Keys that would land outside to_folder (`../x`) or on it (`sub/..`), and keys that
        would land on one file (`x/../a.txt` and `a.txt`) or on another's folder, are refused
        before anything is written. Returns the local folder.
        """
        destination = Path("." if to_folder is None else to_folder).expanduser().resolve()
        prefix = self._prefix(from_folder)
        client = self._client()
        listed = objects.search_objects(client, self.bucket_name, prefix,
                                        jmespath_query="Contents[].[Key, Size]")
        triples = transfers.download_plan(destination, [
            (key, key[len(prefix):], size)
            for key, size in listed if not key.endswith("/")])  # skip folder markers
        destination.mkdir(parents=True, exist_ok=True)
        transfers.download_many(client, self.bucket_name, triples, self.transfer_config)
        return destination

    # -- more than the interface -------------------------------------------------------

    @threaded_dispatch
    def copy_object(self, from_path: str, to_path: str, to_bucket: S3Bucket | str | None = None,
                    **copy_kwargs: Any) -> str:
        """Copy an object inside S3 (no download), to this bucket or to_bucket; return to_path.

        to_bucket is an S3Bucket (to_path relative to its folder) or a bucket name (to_path
        is the full key); both must be reachable with this bucket's credentials.
        copy_kwargs go to S3 as ExtraArgs (e.g. StorageClass="STANDARD_IA").
        """
        target_bucket, target_key = self._target(to_path, to_bucket)
        objects.copy_object(self._client(), self.bucket_name, self._object_key(from_path),
                            target_bucket, target_key, self.transfer_config, copy_kwargs)
        return to_path

    @threaded_dispatch
    def move_object(self, from_path: str, to_path: str, to_bucket: S3Bucket | str | None = None
                    ) -> str:
        """Copy an object, then delete the original; return to_path."""
        source = self._object_key(from_path)
        target_bucket, target_key = self._target(to_path, to_bucket)
        if (target_bucket, target_key) == (self.bucket_name, source):
            return to_path
        client = self._client()
        objects.copy_object(client, self.bucket_name, source, target_bucket, target_key,
                            self.transfer_config)
        objects.delete_object(client, self.bucket_name, source)
        return to_path

    @threaded_dispatch
    def delete_object(self, path: str) -> str:
        """Delete the object at path (an absent one is fine, as in S3); return the path."""
        objects.delete_object(self._client(), self.bucket_name, self._object_key(path))
        return path

    @threaded_dispatch
    def delete_objects(self, paths: Iterable[str]) -> list[str]:
        """Delete many objects in batches of 1,000; return the paths deleted.

        Every batch is tried; when S3 refuses some keys, one AwsError then names a few of them
        and how many failed (its `failed_keys` lists them all, as full keys).
        """
        keys = [self._object_key(p) for p in paths]
        deleted = objects.delete_objects(self._client(), self.bucket_name, keys)
        return [self._relative(key) for key in deleted]

    @threaded_dispatch
    def stream_from(self, other_bucket: S3Bucket, from_path: str, to_path: str | None = None
                    ) -> str:
        """Stream an object of another bucket into this one, through memory, never disk.

        The buckets may have different credentials or endpoints (AWS to MinIO, say). Only a
        few parts are in memory at once. Returns the path written (default: from_path).
        Errors reading the source name its bucket, key and endpoint; errors writing, this
        bucket's.
        """
        source_key = other_bucket._object_key(from_path)
        key = self._object_key(from_path if to_path is None else to_path)
        source_client = other_bucket._client()
        source = {"bucket": other_bucket.bucket_name, "key": source_key, "client": source_client}
        with aws_errors(**source):
            response = source_client.get_object(Bucket=other_bucket.bucket_name, Key=source_key)
        body = transfers.TranslatedReads(response["Body"], source)
        try:
            transfers.upload_stream(self._client(), body, self.bucket_name, key,
                                    self.transfer_config, total=response.get("ContentLength"))
        finally:
            body.close()
        return self._relative(key)

    # -- the storage interface of deployments (Prefect's names) ------------------------

    @threaded_dispatch
    def get_directory(self, from_path: str | None = None, local_path: str | Path | None = None
                      ) -> Path:
        """Download the folder from_path (default: all of bucket_folder) into local_path
        (default: the working directory); return the local folder."""
        return self.download_folder_to_path(from_path or "", local_path or ".", _sync=True)

    @threaded_dispatch
    def put_directory(self, local_path: str | Path | None = None, to_path: str | None = None,
                      ignore_file: str | Path | None = None) -> int:
        """Upload the files under local_path (default: the working directory) to the folder
        to_path, concurrently; return how many were uploaded.

        ignore_file names a `.prefectignore`/`.gitignore`-style file: paths it matches,
        relative to local_path, are left out. A relative ignore_file is looked for in
        local_path first, then in the working directory (see prefect_aws.ignore_files).
        """
        source = _existing(Path(local_path or "."), "folder")
        patterns = (ignore_files.read_patterns(ignore_files.locate(ignore_file, source))
                    if ignore_file else [])
        prefix = self._prefix(to_path or "")
        pairs = [(file, prefix + relative) for file, relative in transfers.local_files(source)
                 if not ignore_files.is_ignored(relative, patterns)]
        transfers.upload_many(self._client(), self.bucket_name, pairs, self.transfer_config)
        return len(pairs)

    # -- the same, for async code: each call runs in a worker thread ---------------------
    # By Prefect 3's rule (core_blocks.dispatch) the plain names return these awaitables in
    # async code: `await bucket.read_path(p)`, and `bucket.read_path(p)` in sync code.

    aread_path = read_path.aio
    awrite_path = write_path.aio
    alist_objects = list_objects.aio
    aupload_from_path = upload_from_path.aio
    adownload_object_to_path = download_object_to_path.aio
    aupload_from_file_object = upload_from_file_object.aio
    adownload_object_to_file_object = download_object_to_file_object.aio
    aupload_from_folder = upload_from_folder.aio
    adownload_folder_to_path = download_folder_to_path.aio
    acopy_object = copy_object.aio
    amove_object = move_object.aio
    adelete_object = delete_object.aio
    adelete_objects = delete_objects.aio
    astream_from = stream_from.aio
    aget_directory = get_directory.aio
    aput_directory = put_directory.aio

    def _target(self, to_path: str, to_bucket: S3Bucket | str | None) -> tuple[str, str]:
        if to_bucket is None:
            return self.bucket_name, self._object_key(to_path)
        if isinstance(to_bucket, S3Bucket):
            return to_bucket.bucket_name, to_bucket._object_key(to_path)
        if not to_path:
            raise StoragePathError(f"Path {to_path!r} names no object in S3 bucket "
                                   f"{to_bucket!r}. Give the full key, such as 'a/b.csv'.")
        return to_bucket, to_path


def _existing(path: Path, kind: str) -> Path:
    ok = path.is_file() if kind == "file" else path.is_dir()
    if not ok:
        raise LocalPathNotFound(f"No local {kind} {str(path)!r} to upload. Check the path.")
    return path


def __getattr__(name: str) -> Any:
    if name in _TASKS:
        from prefect_aws import tasks

        return getattr(tasks, name)
    raise AttributeError(f"module 'prefect_aws.s3' has no attribute {name!r}")
