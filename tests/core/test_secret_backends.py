"""Secret backends: the encrypted file, environment variables, the real OS keyring, `auto`, and
the secret journal that keeps the store and the backend in agreement across crashes."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import Field, SecretBytes

from core_blocks import Block, Secret, Webhook
from core_blocks.errors import BlockNotFound, SecretBackendError, StoreError
from core_blocks.secrets import backend_named
from core_blocks.secrets.env_backend import variable_prefix
from core_blocks.secrets.file_backend import FileSecretBackend
from core_blocks.secrets.keyring_backend import SERVICE, KeyringSecretBackend
from core_blocks.settings import current
from core_blocks.store import Store, get_store
from core_blocks.testing import reset_state
from core_blocks.testing.contracts import SecretBackendContract
from tests.helpers import BLOCKS, file_backend_secrets


class EnvCertificate(Block):
    """A test block with a SecretBytes field."""

    pem: SecretBytes = Field(description="PEM bytes")


# -- helpers --------------------------------------------------------------------------------


def child_env(**changes: str | None) -> dict[str, str]:
    """This process's environment with changes applied (None removes a variable)."""
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def blocks_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BLOCKS), *argv], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, env=env or child_env())


def run_python(code: str, *args: str, env: dict[str, str] | None = None):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, env=env or child_env())


def decrypted(home: Path, key: str | bytes | None = None) -> dict:
    """The file backend's whole content, decrypted directly with cryptography."""
    return file_backend_secrets(home, key)


def secret_files(home: Path) -> bytes:
    """Every byte the file backend keeps on disk (database, WAL, shared memory)."""
    return b"".join(p.read_bytes() for p in sorted(home.glob("secrets.db*")))


def doc(name: str, slug: str = "secret"):
    return get_store().get_document(slug, name)


def doctor(*flags: str) -> dict:
    """`blocks doctor --json` in a subprocess, as a dict."""
    result = blocks_cli("doctor", "--json", *flags)
    assert result.stderr == ""
    return json.loads(result.stdout)


def orphan_finding(report: dict) -> dict:
    [finding] = [f for f in report["findings"] if f["name"] == "orphaned secrets"]
    return finding


def keyring_lookup(key: str) -> str | None:
    """The keyring item for key, read by secret-tool (libsecret), not by core-blocks."""
    result = subprocess.run(["secret-tool", "lookup", "service", SERVICE, "username", key],
                            capture_output=True, text=True, timeout=30)
    return result.stdout if result.returncode == 0 else None


@pytest.fixture
def on_keyring(secret_service, monkeypatch, block_home):
    """CORE_BLOCKS_SECRET_BACKEND=keyring; removes this test's keyring items afterwards."""
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "keyring")
    reset_state()
    yield secret_service
    reset_state()
    with sqlite3.connect(block_home / "blocks.db") as con:
        keys = [r[0] for r in con.execute(
            "SELECT secret_key FROM block_documents WHERE secret_backend = 'keyring'"
            " UNION SELECT secret_key FROM secret_journal WHERE backend = 'keyring'")]
    con.close()
    for key in keys:
        if secret_service.get_password(SERVICE, key) is not None:
            secret_service.delete_password(SERVICE, key)


# -- contracts ------------------------------------------------------------------------------


class TestFileBackendContract(SecretBackendContract):
    @pytest.fixture(params=["env-key", "key-file"])
    def backend(self, request, monkeypatch, block_home):
        if request.param == "key-file":
            monkeypatch.delenv("CORE_BLOCKS_SECRET_KEY")
        return FileSecretBackend(current())


class TestKeyringBackendContract(SecretBackendContract):
    @pytest.fixture
    def backend(self, secret_service):
        yield KeyringSecretBackend(current())
        for key in ("t/k1", "t/a", "t/b"):
            if secret_service.get_password(SERVICE, key) is not None:
                secret_service.delete_password(SERVICE, key)


# -- file backend ---------------------------------------------------------------------------


def test_file_backend_encrypts_with_the_env_key(block_home, canary):
    """With CORE_BLOCKS_SECRET_KEY set, secrets.db (0600) decrypts with it; no key file."""
    Secret(value=canary).save("db")

    assert canary.encode() not in secret_files(block_home)
    for part in block_home.glob("secrets.db*"):
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
    assert decrypted(block_home) == {doc("db").secret_key: {"value": canary}}
    assert doc("db").secret_backend == "file"
    assert not (block_home / "secret.key").exists()
    for store_file in block_home.glob("blocks.db*"):
        assert canary.encode() not in store_file.read_bytes()


def test_key_file_is_created_0600_on_first_write_only(block_home, monkeypatch, canary):
    """Without CORE_BLOCKS_SECRET_KEY a key file appears at the first save, and is reused."""
    monkeypatch.delenv("CORE_BLOCKS_SECRET_KEY")
    reset_state()
    key_path = block_home / "secret.key"
    with pytest.raises(BlockNotFound):
        Secret.load("db")
    assert not key_path.exists()

    Secret(value=canary).save("db")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = key_path.read_bytes()
    assert decrypted(block_home, key.strip()) == {doc("db").secret_key: {"value": canary}}

    Secret(value="second").save("other")
    assert key_path.read_bytes() == key
    fresh = run_python("from core_blocks import Secret; print(Secret.load('db').get())",
                       env=child_env(CORE_BLOCKS_SECRET_KEY=None))
    assert fresh.stdout.strip() == canary, fresh.stderr


def test_missing_key_file_is_one_clear_error(block_home, monkeypatch):
    """secrets.db without its key file: loads and saves fail, and the file is kept."""
    monkeypatch.delenv("CORE_BLOCKS_SECRET_KEY")
    reset_state()
    Secret(value="v").save("db")
    (block_home / "secret.key").rename(block_home / "secret.key.bak")
    reset_state()
    before = decrypted(block_home, (block_home / "secret.key.bak").read_text().strip())
    message = (f"The secret file {block_home}/secrets.db exists but its key file "
               f"{block_home}/secret.key is missing. Restore the key file, or set "
               "CORE_BLOCKS_SECRET_KEY to the key it was written with.")

    for attempt in (lambda: Secret.load("db"), lambda: Secret(value="w").save("new")):
        with pytest.raises(SecretBackendError) as raised:
            attempt()
        assert str(raised.value) == message
    assert decrypted(block_home, (block_home / "secret.key.bak").read_text().strip()) == before
    assert not (block_home / "secret.key").exists()
    assert Secret.list() == ["db"]


def test_wrong_key_changes_nothing_and_the_right_key_still_works(block_home, monkeypatch,
                                                                  canary):
    """A wrong key fails loads and saves without touching secrets.db; the right key loads."""
    Secret(value=canary).save("db")
    right = os.environ["CORE_BLOCKS_SECRET_KEY"]
    before = decrypted(block_home)

    monkeypatch.setenv("CORE_BLOCKS_SECRET_KEY", Fernet.generate_key().decode())
    reset_state()
    with pytest.raises(SecretBackendError, match="not the key the file was written with"):
        Secret.load("db")
    with pytest.raises(SecretBackendError, match="nothing was changed"):
        Secret(value="x").save("db", overwrite=True)
    assert decrypted(block_home, right) == before
    assert get_store().journal() == []

    monkeypatch.setenv("CORE_BLOCKS_SECRET_KEY", right)
    reset_state()
    assert Secret.load("db").get() == canary


def test_overwrite_replaces_the_secret_key_and_drops_the_old_one(block_home):
    """Each save uses a new key; after an overwrite only the new key is in the file."""
    Secret(value="old").save("db")
    old_key = doc("db").secret_key
    Secret(value="new").save("db", overwrite=True)

    assert doc("db").secret_key != old_key
    assert decrypted(block_home) == {doc("db").secret_key: {"value": "new"}}
    assert get_store().journal() == []


def test_concurrent_writers_lose_no_secret(block_home):
    """Processes saving at once all land in secrets.db (one transaction per secret)."""
    code = ("import sys\nfrom core_blocks import Secret\nw = sys.argv[1]\n"
            "for i in range(6):\n    Secret(value=f'{w}-v{i}').save(f'{w}-{i}')")
    writers = [subprocess.Popen([sys.executable, "-c", code, f"w{n}"], env=child_env(),
                                stderr=subprocess.PIPE, text=True) for n in range(4)]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()

    names = [f"w{n}-{i}" for n in range(4) for i in range(6)]
    assert sorted(Secret.list()) == sorted(names)
    content = decrypted(block_home)
    assert len(content) == len(names)
    for name in names:
        assert content[doc(name).secret_key] == {"value": f"{name[:2]}-v{name[3:]}"}


# -- env backend ----------------------------------------------------------------------------


def test_env_variable_names_follow_the_rule():
    """TYPE and NAME upper-cased with dashes as underscores, then the field upper-cased."""
    assert variable_prefix("secret/prod-db") + "VALUE" == (
        "CORE_BLOCKS_SECRET__SECRET__PROD_DB__VALUE")
    assert variable_prefix("local-file-system/a-b-2") == (
        "CORE_BLOCKS_SECRET__LOCAL_FILE_SYSTEM__A_B_2__")


def test_env_backend_supplies_secrets_to_saved_documents(block_home, monkeypatch, canary):
    """Documents saved elsewhere load their secrets from CORE_BLOCKS_SECRET__ variables."""
    Secret(value="from-file").save("prod-db")
    Webhook(url="https://file.example/x", method="PUT").save("alerts")
    EnvCertificate(pem=b"file-bytes").save("tls")
    pem = b"-----BEGIN CERTIFICATE-----\n\x00\xff"

    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "env")
    monkeypatch.setenv("CORE_BLOCKS_SECRET__SECRET__PROD_DB__VALUE", canary)
    monkeypatch.setenv("CORE_BLOCKS_SECRET__WEBHOOK__ALERTS__URL", "https://env.example/y")
    monkeypatch.setenv("CORE_BLOCKS_SECRET__WEBHOOK__ALERTS__HEADERS",
                       json.dumps({"Authorization": canary}))
    monkeypatch.setenv("CORE_BLOCKS_SECRET__ENV_CERTIFICATE__TLS__PEM",
                       base64.b64encode(pem).decode())
    reset_state()

    assert Secret.load("prod-db").get() == canary
    hook = Webhook.load("alerts")
    assert hook.url.get_secret_value() == "https://env.example/y"
    assert hook.headers.get_secret_value() == {"Authorization": canary}
    assert hook.method == "PUT"  # plain fields still come from the store
    assert EnvCertificate.load("tls").pem.get_secret_value() == pem

    shown = blocks_cli("inspect", "secret/prod-db", "--show-secrets", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["fields"] == {"value": canary}


def test_env_backend_names_the_variables_a_load_is_missing(block_home, monkeypatch):
    """With none or only some of a block's variables set, the error names what to set."""
    Webhook(url="https://file.example/x", headers={"A": "b"}).save("alerts")
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "env")
    reset_state()
    with pytest.raises(SecretBackendError) as none_set:
        Webhook.load("alerts")
    assert str(none_set.value) == (
        "The secrets of webhook/alerts are not in the environment (CORE_BLOCKS_SECRET_BACKEND="
        "env). Set CORE_BLOCKS_SECRET__WEBHOOK__ALERTS__HEADERS, "
        "CORE_BLOCKS_SECRET__WEBHOOK__ALERTS__URL.")
    monkeypatch.setenv("CORE_BLOCKS_SECRET__WEBHOOK__ALERTS__URL", "https://env.example/y")
    with pytest.raises(SecretBackendError, match=r"Set CORE_BLOCKS_SECRET__WEBHOOK__ALERTS__"
                                                 r"HEADERS\.$"):
        Webhook.load("alerts")


def test_env_backend_is_read_only(block_home, monkeypatch):
    """The env backend refuses writes and deletes, and saving under it stores nothing."""
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "env")
    reset_state()
    env = backend_named("env")
    assert env.writable is False
    with pytest.raises(SecretBackendError) as raised:
        env.write("k", {"value": "v"}, "secret/db")
    assert str(raised.value) == (
        "Cannot save the secrets of secret/db: the 'env' secret backend is read-only. "
        "Save blocks where CORE_BLOCKS_SECRET_BACKEND is keyring or file.")
    with pytest.raises(SecretBackendError, match="read-only"):
        env.delete("k")
    with pytest.raises(SecretBackendError, match="read-only"):
        Secret(value="v").save("db")
    assert Secret.list() == [] and get_store().journal() == []
    assert not (block_home / "secrets.db").exists()


# -- keyring backend (real Secret Service) --------------------------------------------------


def test_keyring_save_load_overwrite_delete(on_keyring, block_home, canary):
    """Secrets go to the Secret Service item named by the document's key, and leave it again."""
    name = f"kr-{uuid.uuid4().hex[:8]}"
    Secret(value=canary).save(name)
    first = doc(name)
    assert first.secret_backend == "keyring"
    assert json.loads(on_keyring.get_password(SERVICE, first.secret_key)) == {"value": canary}
    if shutil.which("secret-tool"):
        assert json.loads(keyring_lookup(first.secret_key)) == {"value": canary}
    assert Secret.load(name).get() == canary
    assert not (block_home / "secrets.db").exists()

    Secret(value=canary + "-2").save(name, overwrite=True)
    second = doc(name)
    assert second.secret_key != first.secret_key
    assert on_keyring.get_password(SERVICE, first.secret_key) is None
    assert json.loads(on_keyring.get_password(SERVICE, second.secret_key)) == {
        "value": canary + "-2"}
    assert Secret.load(name).get() == canary + "-2"

    Secret.delete(name)
    assert on_keyring.get_password(SERVICE, second.secret_key) is None
    if shutil.which("secret-tool"):
        assert keyring_lookup(second.secret_key) is None
    assert get_store().journal() == []


def test_documents_load_from_the_backend_they_were_saved_with(block_home, monkeypatch,
                                                              on_keyring):
    """Changing CORE_BLOCKS_SECRET_BACKEND strands nothing: each document reads its own backend."""
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "file")
    reset_state()
    Secret(value="in-file").save("a")
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "keyring")
    reset_state()
    Secret(value="in-keyring").save("b")

    a, b = doc("a"), doc("b")
    assert (a.secret_backend, b.secret_backend) == ("file", "keyring")
    assert set(decrypted(block_home)) == {a.secret_key}
    assert on_keyring.get_password(SERVICE, a.secret_key) is None
    assert json.loads(on_keyring.get_password(SERVICE, b.secret_key)) == {"value": "in-keyring"}
    for backend in ("keyring", "file", "auto"):
        monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", backend)
        reset_state()
        assert (Secret.load("a").get(), Secret.load("b").get()) == ("in-file", "in-keyring")


# -- auto -----------------------------------------------------------------------------------


def _notice(home: Path) -> re.Pattern:
    return re.compile(
        r"core-blocks: no OS keyring found \(keyring chose [\w.]+\); secrets go to the "
        rf"encrypted file {re.escape(str(home))}/secrets\.db "
        r"\(set CORE_BLOCKS_SECRET_BACKEND to choose\)\.")


def test_auto_picks_the_real_keyring(block_home, on_keyring):
    """With a Secret Service on the bus, `auto` saves to the keyring and says nothing."""
    env = child_env(CORE_BLOCKS_SECRET_BACKEND="auto")
    created = blocks_cli("create", "secret/auto-kr", "--set", "value=auto-value", env=env)
    assert created.returncode == 0, created.stderr
    assert created.stderr == ""
    row = doc("auto-kr")
    assert row.secret_backend == "keyring"
    assert json.loads(on_keyring.get_password(SERVICE, row.secret_key)) == {"value": "auto-value"}
    assert not (block_home / "secrets.db").exists()

    deleted = blocks_cli("delete", "secret/auto-kr", "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert on_keyring.get_password(SERVICE, row.secret_key) is None


@pytest.mark.parametrize("headless", [
    {"DBUS_SESSION_BUS_ADDRESS": None, "PYTHON_KEYRING_BACKEND": None},
    {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
], ids=["no-dbus", "fail-keyring"])
def test_auto_falls_back_to_file_with_one_notice_per_home(block_home, tmp_path, headless):
    """Headless, `auto` uses the file backend and says so on stderr once per home."""
    env = child_env(CORE_BLOCKS_SECRET_BACKEND="auto", **headless)
    first = blocks_cli("create", "secret/one", "--set", "value=v1", env=env)
    assert first.returncode == 0, first.stderr
    [line] = first.stderr.splitlines()
    assert _notice(block_home).fullmatch(line), line

    again = blocks_cli("create", "secret/two", "--set", "value=v2", env=env)
    assert again.returncode == 0 and again.stderr == ""
    api = run_python("from core_blocks import Secret\nSecret(value='v3').save('three')\n"
                     "print(Secret.load('one').get(), Secret.load('two').get())", env=env)
    assert api.stdout.split() == ["v1", "v2"] and api.stderr == ""
    assert {doc(n).secret_backend for n in ("one", "two", "three")} == {"file"}
    assert len(decrypted(block_home)) == 3

    other = tmp_path / "other-home"
    two_saves = run_python(
        "from core_blocks import Secret\nSecret(value='x').save('x')\nSecret(value='y').save('y')",
        env={**env, "CORE_BLOCKS_HOME": str(other)})
    assert two_saves.returncode == 0, two_saves.stderr
    [line] = two_saves.stderr.splitlines()
    assert _notice(other).fullmatch(line), line


# -- the secret journal: store and backend never disagree -----------------------------------

CRASHING_SAVE = """
import os, sys
from core_blocks import Secret
from core_blocks.store import Store

original = Store.write_documents

def before_commit(self, *args, **kwargs):
    os._exit(17)

def after_commit(self, *args, **kwargs):
    original(self, *args, **kwargs)
    os._exit(17)

Store.write_documents = before_commit if sys.argv[1] == "before" else after_commit
Secret(value=sys.argv[2]).save("db", overwrite=True)
"""


@pytest.fixture(params=["file", "keyring"])
def backend_name(request, monkeypatch):
    """Runs a journal test on the file backend, then on the real keyring."""
    if request.param == "keyring":
        request.getfixturevalue("on_keyring")
    else:
        monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "file")
        reset_state()
    return request.param


def _stored(backend: str, key: str):
    return backend_named(backend).read(key, "secret/db")


def _age_journal(home: Path) -> None:
    """Make every journal row older than doctor's grace period for running saves."""
    with sqlite3.connect(home / "blocks.db") as con:
        con.execute("UPDATE secret_journal SET created = '2000-01-01T00:00:00+00:00'")
    con.close()


def test_crash_before_commit_keeps_the_old_document_and_doctor_removes_the_orphan(
        backend_name, block_home, canary):
    """Killed after writing the new secret: the old block loads; doctor --fix cleans up."""
    Secret(value=canary).save("db")
    old = doc("db")
    crashed = run_python(CRASHING_SAVE, "before", "new-value")
    assert crashed.returncode == 17, crashed.stderr

    assert Secret.load("db").get() == canary
    assert doc("db") == old
    [(orphan, backend, state, _)] = get_store().journal()
    assert (backend, state) == (backend_name, "pending")
    assert _stored(backend_name, orphan) == {"value": "new-value"}

    report = doctor()  # a young pending secret may be a save still running
    assert orphan_finding(report) == {"area": "documents", "name": "orphaned secrets",
                                      "ok": True, "detail": "none"}
    _age_journal(block_home)
    report = doctor()
    assert orphan_finding(report)["ok"] is False
    assert orphan_finding(report)["detail"] == (
        "1 secret(s) left by interrupted saves or deletes; remove them with: blocks doctor --fix")
    assert _stored(backend_name, orphan) == {"value": "new-value"}  # doctor alone removes nothing

    report = doctor("--fix")
    assert orphan_finding(report) == {"area": "documents", "name": "orphaned secrets",
                                      "ok": True, "detail": "removed 1"}
    assert report["fixed"] == [f"removed orphaned secret {orphan}"]
    assert _stored(backend_name, orphan) is None
    assert get_store().journal() == []
    assert Secret.load("db").get() == canary
    assert orphan_finding(doctor())["detail"] == "none"


def test_crash_after_commit_loads_the_new_document_and_doctor_removes_the_old_secret(
        backend_name, canary):
    """Killed after the commit: the new block loads; the replaced secret is a retired orphan."""
    Secret(value="old-value").save("db")
    old_key = doc("db").secret_key
    crashed = run_python(CRASHING_SAVE, "after", canary)
    assert crashed.returncode == 17, crashed.stderr

    assert Secret.load("db").get() == canary
    assert doc("db").version == 2
    assert [(k, b, s) for k, b, s, _ in get_store().journal()] == [
        (old_key, backend_name, "retired")]
    assert _stored(backend_name, old_key) == {"value": "old-value"}

    assert orphan_finding(doctor())["ok"] is False
    report = doctor("--fix")
    assert orphan_finding(report)["detail"] == "removed 1"
    assert report["fixed"] == [f"removed orphaned secret {old_key}"]
    assert _stored(backend_name, old_key) is None
    assert Secret.load("db").get() == canary


def test_failed_commit_undoes_its_secret_at_once(backend_name, block_home, monkeypatch):
    """A commit that raises: the save fails, the new secret is removed, the old block loads."""
    Secret(value="old-value").save("db")
    old = doc("db")
    written: list[str] = []

    def failing_commit(self, writes, **kwargs):
        written.extend(w.secret_key for w in writes if w.secret_key)
        raise StoreError("simulated commit failure")

    with monkeypatch.context() as patch:
        patch.setattr(Store, "write_documents", failing_commit)
        with pytest.raises(StoreError, match="simulated commit failure"):
            Secret(value="new-value").save("db", overwrite=True)

    assert len(written) == 1 and written[0] != old.secret_key
    assert _stored(backend_name, written[0]) is None
    assert get_store().journal() == []
    assert doc("db") == old
    assert Secret.load("db").get() == "old-value"


def test_doctor_exit_code_follows_its_report():
    """`blocks doctor` exits 1 when its report has a problem (here an orphan), else 0."""
    Secret(value="old-value").save("db")
    assert run_python(CRASHING_SAVE, "after", "new-value").returncode == 17

    for flags in ((), ("--fix",), ()):
        result = blocks_cli("doctor", "--json", *flags)
        report = json.loads(result.stdout)
        assert result.returncode == (0 if report["ok"] else 1), (flags, report["ok"])
    assert report["fixed"] == [] and orphan_finding(report)["detail"] == "none"
