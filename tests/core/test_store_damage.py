"""What crashes and damage leave in the home, and `blocks doctor`: a zero-byte blocks.db is a
damaged store (never silently a new one), doctor --fix counts only secrets it really removed,
and temporary files of interrupted writes are reported and removed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from core_blocks import Secret, String
from core_blocks.diagnostics import run_checks, stale_temp_files
from core_blocks.errors import StoreError
from core_blocks.secrets.selection import backend_named
from core_blocks.store import get_store
from core_blocks.testing import reset_state
from tests.helpers import BLOCKS, file_backend_rows


def blocks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BLOCKS, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "250"})


def truncate_store(home) -> None:
    reset_state()
    for extra in home.glob("blocks.db-*"):
        extra.unlink()
    (home / "blocks.db").write_bytes(b"")


# -- a zero-byte blocks.db ---------------------------------------------------------------------


def test_a_zero_byte_store_beside_secrets_is_refused_and_left_alone(block_home):
    """Commands and doctor say the store is damaged, in one line with the fix; nothing is
    created over it and doctor --fix removes no secret."""
    for i in range(3):
        Secret(value=f"v{i}").save(f"s{i}")
    truncate_store(block_home)
    secrets_before = file_backend_rows(block_home)

    with pytest.raises(StoreError) as caught:
        Secret.load("s0")
    message = str(caught.value)
    assert "0-byte" in message and "secrets.db" in message
    assert "Restore it from a backup" in message

    listed = blocks("ls")
    assert listed.returncode == 1 and listed.stderr.strip().count("\n") == 0, listed.stderr
    assert "0-byte" in listed.stderr and str(block_home / "blocks.db") in listed.stderr
    for args in (("doctor", "--json"), ("doctor", "--fix", "--json")):
        doctor = blocks(*args)
        assert doctor.returncode == 1
        store = json.loads(doctor.stdout)["findings"][0]
        assert store["area"] == "store" and not store["ok"] and "0-byte" in store["detail"]
    assert (block_home / "blocks.db").stat().st_size == 0
    assert file_backend_rows(block_home) == secrets_before


def test_a_zero_byte_store_in_an_otherwise_empty_home_is_refused_too(block_home):
    """core-blocks never leaves a zero-byte store of its own, so one is always damage."""
    (block_home / "blocks.db").write_bytes(b"")

    with pytest.raises(StoreError) as caught:
        String.list()

    assert "0-byte" in str(caught.value) and "secrets.db" not in str(caught.value)
    assert "delete it to start over" in str(caught.value)


def test_a_new_store_appears_whole_and_leaves_no_temporary_file(block_home):
    """A missing blocks.db is created at full schema under a temporary name, then linked."""
    String(value="x").save("a")

    assert (block_home / "blocks.db").stat().st_size > 0
    assert not [p.name for p in block_home.iterdir() if p.name.startswith(".blocks.db")]
    assert stale_temp_files(block_home) == []


# -- doctor --fix counts what it removed ---------------------------------------------------------


def journal_with_age(keys: list[str], state: str) -> None:
    """Journal keys as a crashed save or delete would have, old enough for doctor to act."""
    store = get_store()
    store.journal_add("file", keys, state)
    old = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    with store.transaction() as tx:
        for key in keys:
            tx.execute("UPDATE secret_journal SET created = ? WHERE secret_key = ?", (old, key))


def test_doctor_fix_counts_only_secrets_it_really_removed(block_home):
    """Three orphaned secrets in the backend and two journalled keys never written: removed 3."""
    backend = backend_named("file")
    written = [f"orphan-{i}" for i in range(3)]
    for key in written:
        backend.write(key, {"value": "x"}, "secret/gone")
    journal_with_age(written, "retired")
    journal_with_age(["never-1", "never-2"], "pending")
    Secret(value="kept").save("kept")

    before = run_checks()
    report = run_checks(fix=True)

    finding = next(f for f in before.findings if f.name == "orphaned secrets")
    assert not finding.ok and finding.detail.startswith("5 secret(s)")
    fixed = next(f for f in report.findings if f.name == "orphaned secrets")
    assert fixed.ok and fixed.detail == (
        "removed 3; cleared 2 journal entries of secrets never written")
    assert sorted(report.fixed) == [f"removed orphaned secret {k}" for k in written]
    assert all(backend.read(k, k) is None for k in written)
    assert get_store().journal() == []
    assert Secret.load("kept").get() == "kept"


# -- temporary files of interrupted writes -----------------------------------------------------

def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_doctor_reports_and_fix_removes_leftover_temporary_files(block_home):
    """A crashed write of the old single secret file left .secrets.enc.PID.tmp (the current
    file backend writes rows in SQLite and leaves none); doctor reports it, --fix removes it
    and the other stale ones, and keeps a live writer's fresh one."""
    dead = dead_pid()
    left = [block_home / f".secrets.enc.{dead}.tmp"]
    left[0].write_bytes(b"x")
    old_store_temp = block_home / f".blocks.db.{dead}.k2j4.tmp-wal"
    old_store_temp.write_bytes(b"x")
    old_live = block_home / f".secrets.enc.{os.getpid()}.tmp"  # alive, but two minutes old
    old_live.write_bytes(b"x")
    os.utime(old_live, (time.time() - 120, time.time() - 120))
    fresh_live = block_home / f".blocks.db.{os.getpid()}.abcd.tmp"
    fresh_live.write_bytes(b"x")
    unrelated = block_home / ".secrets.enc.notapid.tmp"
    unrelated.write_bytes(b"x")

    stale = sorted([str(left[0]), str(old_store_temp), str(old_live)])
    assert stale_temp_files(block_home) == stale
    doctor = blocks("doctor", "--json")
    assert doctor.returncode == 1
    finding = next(f for f in json.loads(doctor.stdout)["findings"]
                   if f["name"] == "temporary files")
    assert not finding["ok"] and finding["detail"].startswith("3 temporary file(s)")

    fixed = blocks("doctor", "--fix", "--json")

    assert fixed.returncode == 0, fixed.stdout
    assert sorted(json.loads(fixed.stdout)["fixed"]) == [f"removed temporary file {p}"
                                                         for p in stale]
    assert not any(os.path.exists(p) for p in stale)
    assert fresh_live.exists() and unrelated.exists()
    assert stale_temp_files(block_home) == []
