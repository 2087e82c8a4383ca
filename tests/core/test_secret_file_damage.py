"""A damaged secrets.db (the file backend's database): zero bytes, garbage, or cut short.

Every command that needs it fails with one line naming the file and what to do, leaves the
store and the file as they were, and `blocks doctor` reports the file backend unusable.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess

import pytest

from core_blocks import Secret
from core_blocks.errors import SecretBackendError
from core_blocks.store import get_store
from core_blocks.testing import reset_state
from tests.helpers import BLOCKS

SAVED = 100  # enough secrets to fill several pages of the file


def blocks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "250"})


def damage(path, how: str) -> None:
    """Damage secrets.db as a crash, a bad copy or a full disk would."""
    whole = path.read_bytes()
    if how == "zero-byte":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(os.urandom(len(whole)))
    else:  # truncated: a copy cut off halfway
        path.write_bytes(whole[: len(whole) // 2])


@pytest.fixture(params=["zero-byte", "garbage", "truncated"])
def damaged(request, block_home):
    """SAVED secrets in the file backend, then its secrets.db damaged: the path."""
    for i in range(SAVED):
        Secret(value=f"value-{i}").save(f"s{i}")
    reset_state()
    gc.collect()  # closes the forgotten connections: the last one moves the WAL into the file
    path = block_home / "secrets.db"
    assert not (block_home / "secrets.db-wal").exists()
    damage(path, request.param)
    return path


def one_line_naming(result: subprocess.CompletedProcess, path) -> str:
    assert result.returncode == 1, result
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert str(path) in line and "Restore it from a backup" in line, line
    return line


def test_loading_a_block_names_the_file_and_the_fix(damaged):
    with pytest.raises(SecretBackendError) as caught:
        Secret.load(f"s{SAVED - 1}")

    message = str(caught.value)
    assert str(damaged) in message and "Restore it from a backup" in message
    assert "move it aside" in message
    error = caught.value  # no sqlite traceback chained to it
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_commands_fail_in_one_line_and_change_nothing(damaged, block_home):
    before = damaged.read_bytes()

    one_line_naming(blocks("create", "secret/new", "--set", "value=x"), damaged)
    one_line_naming(blocks("create", f"secret/s{SAVED - 1}", "--set", "value=x",
                           "--overwrite"), damaged)

    assert get_store().get_document("secret", "new") is None  # nothing half-saved
    assert damaged.read_bytes() == before
    assert sorted(p.name for p in block_home.glob("secrets.db*")) == ["secrets.db"]


def test_doctor_reports_the_file_backend_unusable(damaged):
    for args in (("doctor", "--json"), ("doctor", "--fix", "--json")):
        result = blocks(*args)
        assert result.returncode == 1, result
        [finding] = [f for f in json.loads(result.stdout)["findings"]
                     if f["area"] == "secrets" and f["name"] == "file"]
        assert not finding["ok"]
        assert finding["detail"].startswith("not usable [selected]: ")
        assert str(damaged) in finding["detail"]
        assert "Restore it from a backup" in finding["detail"]


def test_doctor_reports_it_while_another_backend_is_selected(damaged, monkeypatch):
    """The blocks saved there still load from it: a problem even when saves go elsewhere."""
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "env")

    result = blocks("doctor", "--json")

    assert result.returncode == 1, result
    [finding] = [f for f in json.loads(result.stdout)["findings"]
                 if f["area"] == "secrets" and f["name"] == "file"]
    assert not finding["ok"] and finding["detail"].startswith("not usable: ")
