"""LocalFileSystem: object storage in a local folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from pydantic import Field

from core_blocks.abstract import ObjectStorageBlock
from core_blocks.errors import BlockNotFound, StoragePathError

_CHUNK = 1024 * 1024


class LocalFileSystem(ObjectStorageBlock):
    """A folder on this machine used as object storage; paths are relative to basepath.

        >>> import tempfile
        >>> fs = LocalFileSystem(basepath=tempfile.mkdtemp())
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
            raise StoragePathError(
                f"Path {str(path)!r} escapes the local-file-system base {str(base)!r}: use a "
                "path inside it, without '..'."
            )
        return target

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

    def read_path(self, path: str) -> bytes:
        return self._existing(path).read_bytes()

    def write_path(self, path: str, content: bytes) -> str:
        target = self._resolve(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)  # readers see the old or the new content, never half
        return self._relative(target)

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
        destination = Path(to_path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("wb") as fh:
            self.download_object_to_file_object(from_path, fh)
        return destination

    def upload_from_file_object(self, from_file_object: BinaryIO, to_path: str) -> str:
        target = self._resolve(to_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as out:
            shutil.copyfileobj(from_file_object, out, _CHUNK)
        os.replace(tmp, target)
        return self._relative(target)

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
