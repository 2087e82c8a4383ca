"""The `file` backend: all secrets in one Fernet-encrypted file beside the store.

The key comes from CORE_BLOCKS_SECRET_KEY, else from `secret.key` in the home folder,
created with mode 0600 on first write. Writers hold an exclusive lock on `secrets.lock` (a
portable OS file lock) and replace the file atomically, so readers never see half a file
and need no lock.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core_blocks.errors import SecretBackendError
from core_blocks.secrets.base import SecretBackend
from core_blocks.settings import Settings, ensure_home

_KEY_HELP = (
    "generate one with: python -c \"from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())\""
)


class FileSecretBackend(SecretBackend):
    name = "file"
    description = "one encrypted file (Fernet), key from CORE_BLOCKS_SECRET_KEY or a 0600 key file"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.path = settings.home / "secrets.enc"
        self.key_path = settings.home / "secret.key"
        self._fernet = None
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    @classmethod
    def unusable_reason(cls, settings: Settings) -> str | None:
        key = os.environ.get("CORE_BLOCKS_SECRET_KEY")
        if key is not None and _fernet_or_none(key) is None:
            return f"CORE_BLOCKS_SECRET_KEY is not a Fernet key; {_KEY_HELP}"
        return None

    # -- key -------------------------------------------------------------------------

    def _key_source(self) -> str:
        return ("CORE_BLOCKS_SECRET_KEY" if "CORE_BLOCKS_SECRET_KEY" in os.environ
                else str(self.key_path))

    def _get_fernet(self, create: bool):
        if self._fernet is not None:
            return self._fernet
        env_key = os.environ.get("CORE_BLOCKS_SECRET_KEY")
        if env_key is not None:
            fernet = _fernet_or_none(env_key)
            if fernet is None:
                raise SecretBackendError(
                    f"CORE_BLOCKS_SECRET_KEY is not a valid key for the file secret backend: "
                    f"{_KEY_HELP}"
                )
        elif self.key_path.exists():
            fernet = _fernet_or_none(self.key_path.read_text().strip())
            if fernet is None:
                raise SecretBackendError(
                    f"The key file {self.key_path} does not hold a valid key. Restore it from a "
                    "backup, or set CORE_BLOCKS_SECRET_KEY to the key the secrets were "
                    "written with."
                )
        elif create:
            from cryptography.fernet import Fernet

            ensure_home(self.key_path.parent)
            key = Fernet.generate_key()
            # 0600 from the first byte: this file unlocks every secret.
            fd = os.open(self.key_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key + b"\n")
            fernet = Fernet(key)
        else:
            return None
        self._fernet = fernet
        return fernet

    # -- file ------------------------------------------------------------------------

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read_all(self) -> dict[str, Any]:
        signature = self._signature()
        if signature is None:
            return {}
        if self._cache is not None and self._cache[0] == signature:
            return self._cache[1]
        fernet = self._get_fernet(create=False)
        if fernet is None:
            raise SecretBackendError(
                f"The secret file {self.path} exists but its key file {self.key_path} is "
                "missing. Restore the key file, or set CORE_BLOCKS_SECRET_KEY to the key it "
                "was written with."
            )
        from cryptography.fernet import InvalidToken

        token = Path(self.path).read_bytes()
        try:
            values = json.loads(fernet.decrypt(token))
        except InvalidToken:
            raise SecretBackendError(
                f"Cannot decrypt the secret file {self.path} with the key from "
                f"{self._key_source()}: it is not the key the file was written with. Set "
                "CORE_BLOCKS_SECRET_KEY to the right key; nothing was changed."
            ) from None
        self._cache = (signature, values)
        return values

    @contextmanager
    def _locked(self):
        # filelock: flock on Unix, msvcrt locking on Windows; imported here because only
        # writers need it. A new lock object per write, so threads exclude each other too.
        from filelock import FileLock

        ensure_home(self.path.parent)
        with FileLock(self.settings.home / "secrets.lock", mode=0o600):
            yield

    def _write_all(self, values: dict[str, Any]) -> None:
        fernet = self._get_fernet(create=True)
        token = fernet.encrypt(json.dumps(values).encode())
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(token)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._cache = (self._signature(), values)

    # -- backend ---------------------------------------------------------------------

    def read(self, key: str, ref: str) -> dict[str, Any] | None:
        return self._read_all().get(key)

    def write(self, key: str, values: dict[str, Any], ref: str) -> None:
        with self._locked():
            current = dict(self._read_all())  # a wrong key fails here, before any write
            current[key] = values
            self._write_all(current)

    def delete(self, key: str) -> None:
        with self._locked():
            current = self._read_all()
            if key in current:
                current = dict(current)
                del current[key]
                self._write_all(current)


def _fernet_or_none(key: str):
    from cryptography.fernet import Fernet

    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError):
        return None
