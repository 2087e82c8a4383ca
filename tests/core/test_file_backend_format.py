"""The file secret backend's records: one encrypted row per secret in secrets.db, the old single
file (secrets.enc) imported on first use, and a writer killed mid-save harming no other secret."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time

import pytest
from cryptography.fernet import Fernet

from core_blocks import Secret, Webhook
from core_blocks.errors import SecretBackendError
from core_blocks.secrets.file_backend import FileSecretBackend
from core_blocks.settings import current
from core_blocks.store import get_store
from core_blocks.testing import reset_state
from tests.helpers import file_backend_rows, file_backend_secrets

# secrets.enc exactly as the previous file backend wrote it (three writes through its
# FileSecretBackend.write), and the key it was written with.
LEGACY_KEY = "Y5S3R2Vv1mRN3aKvLQ0vXw3m2QZ9c8rJk5vQ2n3B4hE="
LEGACY_FILE = (
    b"gAAAAABrDFAs-K5nyXdlH_9QUw9HcsoDLbmmszqINVBNSjwXD4fbdPsI8vf5L5Uv9OqeEdG27091vUy05bmT1QeW"
    b"47eaXIJLrMR1E0cyukTr1z9P9uLzPEIXjrzUiYTsVpOBtPL5KShrZtNL2PN3vVQYKHitSg5wEIKu5yl_5_OaxavlL"
    b"RCjsCx3rYTG4pQuYuebNjsu37vt0r5kSDy1O4BPrf2RAU2FKgShZkPpWMoTjg88unJI7IIlc9-BaupRaydCmgWcsiv"
    b"avOgeR5aFqD7hwsxpBMXq0ee1BkVCYHVfASyxSWod9NAigwRxEeBolpn-DNQii3YY"
)
LEGACY_CONTENT = {
    "secret/db/0a1b": {"value": "hunter2-canary"},
    "webhook/alerts/2c3d": {"url": "https://hooks.example/T0", "headers": {"X-Token": "tok"}},
    "cert/pem/4e5f": {"pem": "LS0tLS1CRUdJTg=="},
}


def every_byte(home) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.glob("secrets.db*")))


def test_a_secrets_enc_of_the_old_format_is_imported_on_first_use(block_home, monkeypatch):
    """Every value of the old file reads back; the file is then gone and secrets.db is 0600."""
    monkeypatch.setenv("CORE_BLOCKS_SECRET_KEY", LEGACY_KEY)
    reset_state()
    (block_home / "secrets.enc").write_bytes(LEGACY_FILE)

    backend = FileSecretBackend(current())
    for key, values in LEGACY_CONTENT.items():
        assert backend.read(key, "x/y") == values

    assert not (block_home / "secrets.enc").exists()
    assert file_backend_secrets(block_home, LEGACY_KEY) == LEGACY_CONTENT
    assert stat.S_IMODE((block_home / "secrets.db").stat().st_mode) == 0o600
    assert b"hunter2-canary" not in every_byte(block_home)


def test_saved_blocks_load_from_an_old_format_home(block_home, canary):
    """Blocks whose secrets sit in a secrets.enc (as the old backend kept them) all load."""
    Secret(value=canary).save("db")
    Webhook(url=f"https://hooks.example/{canary}", headers={"X-Token": canary}).save("alerts")
    content = file_backend_secrets(block_home)
    reset_state()
    for part in block_home.glob("secrets.db*"):
        part.unlink()
    # The old format: one Fernet token over a JSON object of every key's values.
    fernet = Fernet(os.environ["CORE_BLOCKS_SECRET_KEY"])
    (block_home / "secrets.enc").write_bytes(fernet.encrypt(json.dumps(content).encode()))

    assert Secret.load("db").get() == canary
    hook = Webhook.load("alerts")
    assert hook.url.get_secret_value() == f"https://hooks.example/{canary}"
    assert hook.headers.get_secret_value() == {"X-Token": canary}
    assert not (block_home / "secrets.enc").exists()
    assert canary.encode() not in every_byte(block_home)


def test_an_old_format_file_with_a_wrong_key_is_kept_and_named(block_home, monkeypatch):
    monkeypatch.setenv("CORE_BLOCKS_SECRET_KEY", Fernet.generate_key().decode())
    reset_state()
    (block_home / "secrets.enc").write_bytes(LEGACY_FILE)

    with pytest.raises(SecretBackendError) as raised:
        FileSecretBackend(current()).read("secret/db/0a1b", "secret/db")

    assert str(raised.value).startswith(
        f"Cannot decrypt the secret file {block_home}/secrets.enc with the key from "
        "CORE_BLOCKS_SECRET_KEY")
    assert (block_home / "secrets.enc").read_bytes() == LEGACY_FILE
    assert file_backend_rows(block_home) == {}


def test_each_save_adds_one_row_and_an_overwrite_replaces_it(block_home):
    Secret(value="one").save("a")
    Secret(value="two").save("b")
    Secret(value="three").save("a", overwrite=True)

    store = get_store()
    assert file_backend_secrets(block_home) == {
        store.get_document("secret", "a").secret_key: {"value": "three"},
        store.get_document("secret", "b").secret_key: {"value": "two"},
    }


def test_rows_swapped_in_the_file_are_refused(block_home, canary):
    """A row moved under another key is not read as that key's secrets, even by a process
    that has read both before."""
    Secret(value=canary).save("a")
    Secret(value="other").save("b")
    assert Secret.load("a").get() == canary and Secret.load("b").get() == "other"
    store = get_store()
    key_a = store.get_document("secret", "a").secret_key
    key_b = store.get_document("secret", "b").secret_key
    con = sqlite3.connect(block_home / "secrets.db")
    with con:
        token_a = con.execute("SELECT token FROM secrets WHERE key = ?", (key_a,)).fetchone()[0]
        con.execute("UPDATE secrets SET token = ? WHERE key = ?", (token_a, key_b))
    con.close()

    with pytest.raises(SecretBackendError, match="edited outside core-blocks") as raised:
        Secret.load("b")
    assert canary not in str(raised.value)


WRITER = """
import sys
from core_blocks import Secret
print("ready", flush=True)
i = 0
while True:
    Secret(value=f"w-{i}" * 50).save(f"w-{i}")
    i += 1
"""


def test_a_killed_writer_leaves_every_other_secret_readable(block_home):
    """SIGKILL in the middle of saves: every secret saved before, and every block the writer
    finished, still loads."""
    for i in range(20):
        Secret(value=f"kept-{i}").save(f"kept-{i}")
    writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    deadline = time.monotonic() + 60
    while len(Secret.list()) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    reset_state()

    for i in range(20):
        assert Secret.load(f"kept-{i}").get() == f"kept-{i}"
    written = [n for n in Secret.list() if n.startswith("w-")]
    assert len(written) >= 40
    for name in written:
        assert Secret.load(name).get() == f"{name}" * 50
    Secret(value="after").save("after")  # and the file still takes writes
    assert Secret.load("after").get() == "after"
