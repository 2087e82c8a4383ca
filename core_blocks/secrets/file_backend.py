"""The `file` backend: each secret its own Fernet-encrypted row in `secrets.db` beside the store.

The key comes from CORE_BLOCKS_SECRET_KEY, else from `secret.key` in the home folder,
created with mode 0600 on first write. A save writes one row in one SQLite transaction, so it
costs the same with ten secrets saved or ten thousand, and a writer killed mid-save leaves
every other row whole. Each token encrypts the key it is stored under with the values, so rows
swapped in the file are refused rather than read as each other's secrets.

Homes written before this format kept every secret in one encrypted file, `secrets.enc`; the
first use imports it (see `_import_legacy`) and then removes it.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
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
# A row of the meta table encrypted with the key: tells a wrong key before any write.
_CHECK = b"core-blocks secrets"
_OPENED_MAX = 1024  # decrypted rows kept per process
_SCHEMA = ("CREATE TABLE IF NOT EXISTS secrets (key TEXT PRIMARY KEY, token BLOB NOT NULL);"
           "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);")
_SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database
_DAMAGE_SIGNS = ("not a database", "malformed", "corrupt")


class FileSecretBackend(SecretBackend):
    name = "file"
    description = ("encrypted records (Fernet) in secrets.db, key from CORE_BLOCKS_SECRET_KEY "
                   "or a 0600 key file")

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.path = settings.home / "secrets.db"
        self.legacy_path = settings.home / "secrets.enc"
        self.key_path = settings.home / "secret.key"
        self._fernet = None
        self._conn: sqlite3.Connection | None = None
        self._conn_pid = 0  # a forked child opens its own connection
        self._checked = False
        self._lock = threading.Lock()
        # (key, token) -> values of recent reads: the row is still read (a delete shows at
        # once); only its decryption is skipped when the token is one decrypted before.
        self._opened: dict[tuple[str, bytes], dict[str, Any]] = {}

    @classmethod
    def unusable_reason(cls, settings: Settings) -> str | None:
        key = os.environ.get("CORE_BLOCKS_SECRET_KEY")
        if key is not None and _fernet_or_none(key) is None:
            return f"CORE_BLOCKS_SECRET_KEY is not a Fernet key; {_KEY_HELP}"
        return _file_problem(settings.home / "secrets.db")

    @classmethod
    def diagnose(cls, settings: Settings) -> str | None:
        """unusable_reason, then SQLite's own check of every page of secrets.db."""
        path = settings.home / "secrets.db"
        problem = cls.unusable_reason(settings)
        if problem or not path.exists():
            return problem
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            try:
                verdict = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            return _unreadable_message(path, exc)
        if verdict != ["ok"]:
            return _damaged_message(path, "; ".join(verdict))
        return None

    # -- key -------------------------------------------------------------------------

    def _key_source(self) -> str:
        return ("CORE_BLOCKS_SECRET_KEY" if "CORE_BLOCKS_SECRET_KEY" in os.environ
                else str(self.key_path))

    def _get_fernet(self, create: bool, data_file: Path):
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
        elif data_file.exists():
            raise SecretBackendError(
                f"The secret file {data_file} exists but its key file {self.key_path} is "
                "missing. Restore the key file, or set CORE_BLOCKS_SECRET_KEY to the key it "
                "was written with."
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

    def _wrong_key(self, data_file: Path) -> SecretBackendError:
        return SecretBackendError(
            f"Cannot decrypt the secret file {data_file} with the key from "
            f"{self._key_source()}: it is not the key the file was written with. Set "
            "CORE_BLOCKS_SECRET_KEY to the right key; nothing was changed."
        )

    # -- database ----------------------------------------------------------------------

    def _connection(self, create: bool) -> sqlite3.Connection | None:
        """The open secrets.db (created when create), the legacy file imported first."""
        if self._conn is not None and self._conn_pid == os.getpid():
            return self._conn
        if self.legacy_path.exists():
            self._import_legacy()
        elif not self.path.exists():
            if not create:
                return None
            self._get_fernet(create=True, data_file=self.path)  # a wrong key fails before
            self._create_file()
        problem = _file_problem(self.path)
        if problem:  # SQLite would take an empty file for a new database, and write into it
            raise SecretBackendError(problem)
        return self._open()

    def _create_file(self) -> None:
        """Build secrets.db whole (see core_blocks.sqlite_files): an empty or headless
        secrets.db is then always damage."""
        from core_blocks.sqlite_files import create_whole

        ensure_home(self.path.parent)
        create_whole(self.path, lambda conn: conn.executescript(_SCHEMA))

    @contextmanager
    def _file_errors(self) -> Iterator[None]:
        """SQLite's errors as one line naming secrets.db and what to do."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if self._conn is not None:  # opened on a file found damaged: check it again next time
                self._conn.close()
                self._conn, self._checked = None, False
            raise SecretBackendError(_unreadable_message(self.path, exc)) from None

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        # FULL: a save's secret is on disk before the store commits the document naming it.
        conn.execute("PRAGMA synchronous = FULL")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")  # readers never wait for a writer
        conn.executescript(_SCHEMA)
        self._conn, self._conn_pid = conn, os.getpid()
        return conn

    def _check_key(self, conn: sqlite3.Connection, create: bool):
        """The Fernet for this file, proven right against its check row (written if absent)."""
        fernet = self._get_fernet(create=create, data_file=self.path)
        if fernet is None or self._checked:
            return fernet
        from cryptography.fernet import InvalidToken

        row = conn.execute("SELECT value FROM meta WHERE name = 'check'").fetchone()
        if row is None:
            if not create:
                return fernet
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('check', ?)",
                         (fernet.encrypt(_CHECK),))
            row = conn.execute("SELECT value FROM meta WHERE name = 'check'").fetchone()
        try:
            if fernet.decrypt(row[0]) != _CHECK:
                raise InvalidToken
        except InvalidToken:
            raise self._wrong_key(self.path) from None
        self._checked = True
        return fernet

    # -- the legacy single file ----------------------------------------------------------

    def _import_legacy(self) -> None:
        """Move every secret of secrets.enc into secrets.db, then remove secrets.enc.

        Under the lock writers of the old format took, so two processes never import at once
        and no old-format writer runs meanwhile. Rows already present win: keys are written
        once, so a row there came from an import that stopped before removing the file.
        """
        from filelock import FileLock

        ensure_home(self.path.parent)
        with FileLock(self.settings.home / "secrets.lock", mode=0o600):
            if not self.legacy_path.exists():
                return  # another process imported it meanwhile
            values = self._read_legacy()
            if not self.path.exists():
                self._create_file()
            conn = self._open()
            fernet = self._check_key(conn, create=True)
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR IGNORE INTO secrets VALUES (?, ?)",
                                 [(k, _seal(fernet, k, v)) for k, v in values.items()])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self.legacy_path.unlink()

    def _read_legacy(self) -> dict[str, Any]:
        fernet = self._get_fernet(create=False, data_file=self.legacy_path)
        from cryptography.fernet import InvalidToken

        try:
            return json.loads(fernet.decrypt(self.legacy_path.read_bytes()))
        except InvalidToken:
            raise self._wrong_key(self.legacy_path) from None

    # -- backend ---------------------------------------------------------------------

    def read(self, key: str, ref: str) -> dict[str, Any] | None:
        with self._lock, self._file_errors():
            conn = self._connection(create=False)
            if conn is None:
                return None
            fernet = self._check_key(conn, create=False)
            row = conn.execute("SELECT token FROM secrets WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        token = bytes(row[0])
        values = self._opened.get((key, token))  # by key too: a row moved is checked again
        if values is None:
            values = _open_seal(fernet, key, token, self)
            if len(self._opened) >= _OPENED_MAX:
                self._opened.clear()
            self._opened[(key, token)] = values
        return copy.deepcopy(values)  # callers may change what they get

    def write(self, key: str, values: dict[str, Any], ref: str) -> None:
        with self._lock, self._file_errors():
            conn = self._connection(create=True)
            fernet = self._check_key(conn, create=True)  # a wrong key fails here, before any write
            conn.execute("INSERT OR REPLACE INTO secrets VALUES (?, ?)",
                         (key, _seal(fernet, key, values)))

    def delete(self, key: str) -> None:
        with self._lock, self._file_errors():
            conn = self._connection(create=False)
            if conn is None:
                return
            self._check_key(conn, create=False)
            # No fsync for a delete: a power cut can at worst bring back an unreferenced,
            # encrypted row, never lose one in use; it halves the cost of an overwrite.
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                conn.execute("DELETE FROM secrets WHERE key = ?", (key,))
            finally:
                conn.execute("PRAGMA synchronous = FULL")


def _seal(fernet, key: str, values: dict[str, Any]) -> bytes:
    return fernet.encrypt(json.dumps([key, values]).encode())


def _open_seal(fernet, key: str, token: bytes, backend: FileSecretBackend) -> dict[str, Any]:
    from cryptography.fernet import InvalidToken

    try:
        stored_key, values = json.loads(fernet.decrypt(token))
    except InvalidToken:
        raise backend._wrong_key(backend.path) from None
    if stored_key != key:
        raise SecretBackendError(
            f"The secret file {backend.path} holds, under {key!r}, the secrets of another key: "
            "it was edited outside core-blocks. Restore it from a backup."
        )
    return values


def _file_problem(path: Path) -> str | None:
    """Why secrets.db is damaged, from its size and first bytes (cheap: checked before each
    save); None when it is absent or starts as a SQLite database does."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return None
    except OSError as exc:
        return (f"The secret file {path} cannot be read ({exc.strerror}). Give this user "
                "access to it, or restore it from a backup.")
    if not head:
        return _damaged_message(path, "it is an empty (0-byte) file")
    if head != _SQLITE_MAGIC:
        return _damaged_message(path, "it is not a SQLite database")
    return None


def _damaged_message(path: Path, why: str) -> str:
    return (f"The secret file {path} is damaged ({why}): the secrets of blocks saved in it "
            f"cannot be read. Restore it from a backup, or move it aside (to {path.name}.damaged, "
            "say) to start an empty one, then save those blocks again.")


def _unreadable_message(path: Path, exc: sqlite3.DatabaseError) -> str:
    if any(sign in str(exc).lower() for sign in _DAMAGE_SIGNS):
        return _damaged_message(path, str(exc))
    return (f"The secret file {path} could not be used ({exc}). Check that this user can "
            f"write {path.parent} and that the disk is not full; if it persists, restore it "
            "from a backup.")


def _fernet_or_none(key: str):
    from cryptography.fernet import Fernet

    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError):
        return None
