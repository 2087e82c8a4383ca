"""LocalFileSystem: object storage in a local folder."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from pydantic import Field

from core_blocks.abstract import ObjectStorageBlock
from core_blocks.dispatch import threaded_dispatch
from core_blocks.errors import BlockNotFound, StoragePathError

_CHUNK = 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# A new file only: fails on anything already at the name, a planted symlink included.
_CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW


def _temp_name(name: str) -> str:
    """An unpredictable temp name beside `name` (a predictable one invites a planted link)."""
    return f".{name}.{secrets.token_hex(8)}.tmp"


class LocalFileSystem(ObjectStorageBlock):
    """A folder on this machine used as object storage; paths are relative to basepath.

    read_path and write_path follow Prefect 3's sync-or-async rule (core_blocks.dispatch):
    awaited in async code, as Prefect's LocalFileSystem's are.

        >>>         >>> fs = LocalFileSystem(basepath=tempfile.mkdtemp())
        >>> fs.write_path("a/b.txt", b"hi")
        'a/b.txt'
        >>> fs.read_path("a/b.txt")
        b'hi'
    """

    _block_type_name = "Local File System"

    basepath: str = Field(description="Folder that holds the objects; created on first write")

    def _base(self) -> Path:
        return Path(self.basepath).expanduser().resolve()

    def _resolve(self, path: str | Path) -> Path:
        """The absolute path for an object path, refusing any that escapes basepath."""
        base = self._base()
        target = (base / str(path).lstrip("/")).resolve()
        if target != base and base not in target.parents:
            raise self._escape_error(path)
        return target

    def _escape_error(self, path: str | Path) -> StoragePathError:
        return StoragePathError(
            f"Path {str(path)!r} escapes the local-file-system base {str(self._base())!r}: use a "
            "path inside it, without '..' or symlinks leading out."
        )

    def _relative(self, target: Path) -> str:
        return target.relative_to(self._base()).as_posix()

    def _existing(self, path: str) -> Path:
        target = self._resolve(path)
        if not target.is_file():
            raise BlockNotFound(
                f"No object {path!r} in local-file-system {str(self._base())!r}. "
                f"List what is there with list_objects()."
            )
        return target

    @threaded_dispatch
    def read_path(self, path: str) -> bytes:
        return self._existing(path).read_bytes()

    @threaded_dispatch
    def write_path(self, path: str, content: bytes) -> str:
        return self._write(path, lambda out: out.write(content))

    def list_objects(self, folder: str = "") -> list[str]:
        root = self._resolve(folder)
        if not root.is_dir():
            return []
        return sorted(self._relative(p) for p in root.rglob("*") if p.is_file())

    def upload_from_path(self, from_path: str | Path, to_path: str | None = None) -> str:
        source = Path(from_path)
        with source.open("rb") as fh:
            return self.upload_from_file_object(fh, to_path or source.name)

    def download_object_to_path(self, from_path: str, to_path: str | Path) -> Path:
        source = self._existing(from_path)  # before anything is created at to_path
        destination = Path(to_path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        # A temp file beside it, renamed when complete: a failed copy leaves no empty or
        # half file at the destination.
        tmp = destination.with_name(_temp_name(destination.name))
        fd = os.open(tmp, _CREATE_NEW, 0o666)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as fh:
                shutil.copyfileobj(fh, out, _CHUNK)
            os.replace(tmp, destination)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return destination

    def upload_from_file_object(self, from_file_object: BinaryIO, to_path: str) -> str:
        return self._write(to_path, lambda out: shutil.copyfileobj(from_file_object, out, _CHUNK))

    def _write(self, path: str, fill: Callable[[BinaryIO], object]) -> str:
        """Write an object atomically (readers see the old or the new content, never half).

        The temp file's name is random and created with O_EXCL | O_NOFOLLOW, inside a folder
        reached from basepath one component at a time without following symlinks: a symlink
        planted at the temp name or swapped in for a folder cannot redirect the write
        outside basepath.
        """
        target = self._resolve(path)
        folder = self._open_folder(path, target.parent)
        tmp = _temp_name(target.name)
        try:
            fd = os.open(tmp, _CREATE_NEW, 0o666, dir_fd=folder)
            try:
                with os.fdopen(fd, "wb") as out:
                    fill(out)
                os.replace(tmp, target.name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=folder)
                raise
        finally:
            os.close(folder)
        return self._relative(target)

    def _open_folder(self, path: str, folder: Path) -> int:
        """A descriptor of folder, created as needed, each step refusing a symlink."""
        base = self._base()
        base.mkdir(parents=True, exist_ok=True)
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for part in folder.relative_to(base).parts:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
                try:
                    step = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW, dir_fd=fd)
                except OSError:  # a symlink (ELOOP) or a file put there since _resolve
                    raise self._escape_error(path) from None
                os.close(fd)
                fd = step
        except BaseException:
            os.close(fd)
            raise
        return fd

    def download_object_to_file_object(self, from_path: str, to_file_object: BinaryIO) -> BinaryIO:
        with self._existing(from_path).open("rb") as fh:
            shutil.copyfileobj(fh, to_file_object, _CHUNK)
        return to_file_object

    def upload_from_folder(self, from_folder: str | Path, to_folder: str | None = None) -> str:
        source = Path(from_folder)
        if not source.is_dir():
            raise BlockNotFound(f"No local folder {str(source)!r} to upload.")
        prefix = (to_folder or "").strip("/")
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = file.relative_to(source).as_posix()
            self.upload_from_path(file, f"{prefix}/{relative}" if prefix else relative)
        return prefix

    def download_folder_to_path(self, from_folder: str, to_folder: str | Path) -> Path:
        destination = Path(to_folder).resolve()
        root = self._resolve(from_folder)
        for path in self.list_objects(from_folder):
            relative = (self._base() / path).relative_to(root).as_posix()
            target = (destination / relative).resolve()
            if destination not in target.parents:
                raise StoragePathError(f"Object {path!r} would be written outside {destination}.")
            self.download_object_to_path(path, target)
        return destination
