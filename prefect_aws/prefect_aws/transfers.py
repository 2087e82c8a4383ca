"""Streaming file and folder transfers through s3transfer, with a progress bar on a terminal.

Files stream from and to disk in chunks (s3transfer reads each part as it sends it), so
memory stays flat whatever the size. A folder goes through one TransferManager: its files
share one pool of `max_concurrency` threads instead of paying for a pool per file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core_blocks.errors import StoragePathError
from core_blocks.terminal import progress_enabled
from prefect_aws.error_translation import aws_errors

logger = logging.getLogger("prefect_aws")


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[int], None] | None]:
    """A callback advancing a rich progress bar by n bytes, or None when there is no bar."""
    if not progress_enabled():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task_id = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task_id, n)  # thread-safe: rich locks each update


def upload_file(client: Any, path: Path, bucket: str, key: str, config: Any) -> None:
    """Stream one local file to bucket/key (multipart above the threshold)."""
    with progress(f"upload {path.name}", path.stat().st_size) as callback, \
            aws_errors(bucket=bucket, key=key, client=client):
        client.upload_file(str(path), bucket, key, Config=config, Callback=callback)


def download_file(client: Any, bucket: str, key: str, path: Path, config: Any) -> None:
    """Stream bucket/key to a local file (written to a temporary name, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with aws_errors(bucket=bucket, key=key, client=client):
        total = _size(client, bucket, key) if progress_enabled() else None
        with progress(f"download {key}", total) as callback:
            client.download_file(bucket, key, str(path), Config=config, Callback=callback)


def upload_stream(client: Any, stream: Any, bucket: str, key: str, config: Any,
                  total: int | None = None) -> None:
    """Stream a readable binary object to bucket/key, one chunk in memory per worker."""
    with progress(f"upload {key}", total) as callback, \
            aws_errors(bucket=bucket, key=key, client=client):
        client.upload_fileobj(stream, bucket, key, Config=config, Callback=callback)


def download_stream(client: Any, bucket: str, key: str, stream: Any, config: Any) -> None:
    """Stream bucket/key into a writable binary object."""
    with aws_errors(bucket=bucket, key=key, client=client):
        total = _size(client, bucket, key) if progress_enabled() else None
        with progress(f"download {key}", total) as callback:
            client.download_fileobj(bucket, key, stream, Config=config, Callback=callback)


class TranslatedReads:
    """A readable body whose read errors name where it comes from, not where it goes.

    `where` holds aws_errors' bucket, key and client of the source.
    """

    def __init__(self, body: Any, where: dict[str, Any]):
        self._body = body
        self._where = where

    def read(self, size: int | None = None) -> bytes:
        with aws_errors(**self._where):
            return self._body.read(size)

    def close(self) -> None:
        self._body.close()


def local_files(folder: Path) -> list[tuple[Path, str]]:
    """(file, path relative to folder with '/' separators) for every file under folder, sorted.

    Symbolic links to folders are not followed, and links to files outside folder are
    skipped, each with a warning: a link cannot pull in data from outside the folder.
    """
    real_folder = folder.resolve()
    found = []
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs):
            if Path(root, name).is_symlink():
                logger.warning("Not uploading %r: links to folders are not followed.",
                               str(Path(root, name)))
        dirs.sort()
        for name in sorted(files):
            file = Path(root, name)
            if file.is_symlink() and real_folder not in file.resolve().parents:
                logger.warning("Not uploading %r: it links to a file outside the folder %r.",
                               str(file), str(folder))
                continue
            if file.is_file():
                found.append((file, file.relative_to(folder).as_posix()))
    return found


def download_plan(folder: Path, entries: Iterable[tuple[str, str, int]]
                  ) -> list[tuple[str, Path, int]]:
    """(key, local file, size) for each (key, path relative to folder, size), all checked
    before anything is written: each file lands strictly inside folder, no two keys land on
    one file, and no key's file stands where another key needs a folder."""
    plan: list[tuple[str, Path, int]] = []
    owners: dict[Path, str] = {}
    for key, relative, size in entries:
        target = safe_destination(folder, relative, key)
        if target in owners:
            raise StoragePathError(
                f"Refusing to download S3 keys {owners[target]!r} and {key!r}: both would be "
                f"written to {str(target)!r}. Nothing was downloaded; rename or delete one.")
        owners[target] = key
        plan.append((key, target, size))
    for target, key in owners.items():
        for parent in target.parents:
            if parent == folder:
                break
            if parent in owners:
                raise StoragePathError(
                    f"Refusing to download S3 key {owners[parent]!r}: it would be a file at "
                    f"{str(parent)!r}, where key {key!r} needs a folder. Nothing was "
                    "downloaded; rename or delete one.")
    return plan


def safe_destination(folder: Path, relative: str, key: str) -> Path:
    """folder/relative, refusing any key that would land outside folder ('../', '/etc/...')
    or on folder itself ('sub/..', '.')."""
    target = (folder / relative).resolve()
    if target == folder:
        raise StoragePathError(
            f"Refusing to download S3 key {key!r}: it resolves to the target folder "
            f"{str(folder)!r} itself, not to a file in it. Nothing was downloaded; rename or "
            "delete that object.")
    if folder not in target.parents:
        raise StoragePathError(
            f"Refusing to download S3 key {key!r}: it would escape the target folder "
            f"{str(folder)!r}. Nothing was downloaded; rename or delete that object.")
    return target


def upload_many(client: Any, bucket: str, pairs: Sequence[tuple[Path, str]],
                config: Any) -> None:
    """Upload (local file, key) pairs concurrently through one TransferManager."""
    total = sum(path.stat().st_size for path, _ in pairs)
    with progress(f"upload {len(pairs)} files", total) as callback, \
            _manager(client, config, callback) as (manager, subscribers):
        _wait(client, bucket, [
            (key, manager.upload(str(path), bucket, key, subscribers=subscribers))
            for path, key in pairs])


def download_many(client: Any, bucket: str, triples: Sequence[tuple[str, Path, int]],
                  config: Any) -> None:
    """Download (key, local file, size) triples concurrently through one TransferManager."""
    for _, path, _ in triples:
        path.parent.mkdir(parents=True, exist_ok=True)
    total = sum(size for _, _, size in triples)
    with progress(f"download {len(triples)} files", total) as callback, \
            _manager(client, config, callback) as (manager, subscribers):
        _wait(client, bucket, [
            (key, manager.download(bucket, key, str(path),
                                   subscribers=[*subscribers, _KnownSize(size)]))
            for key, path, size in triples])


class _KnownSize:
    """Hands s3transfer the size from the listing, sparing one HEAD request per file."""

    def __init__(self, size: int):
        self.size = size

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self.size)

    def on_progress(self, **kwargs: Any) -> None:
        pass

    def on_done(self, **kwargs: Any) -> None:
        pass


@contextmanager
def _manager(client: Any, config: Any, callback: Callable[[int], None] | None
             ) -> Iterator[tuple[Any, list[Any]]]:
    """A TransferManager, and the subscribers that report progress to callback."""
    from boto3.s3.transfer import ProgressCallbackInvoker, create_transfer_manager

    subscribers = [ProgressCallbackInvoker(callback)] if callback else []
    # Leaving the block waits for every transfer, and cancels the rest after a failure.
    with create_transfer_manager(client, config) as manager:
        yield manager, subscribers


def _wait(client: Any, bucket: str, futures: list[tuple[str, Any]]) -> None:
    for key, future in futures:
        with aws_errors(bucket=bucket, key=key, client=client):
            future.result()


def _size(client: Any, bucket: str, key: str) -> int:
    return int(client.head_object(Bucket=bucket, Key=key)["ContentLength"])
