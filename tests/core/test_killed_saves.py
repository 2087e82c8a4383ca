"""A save killed with `kill -9` right after its transaction committed, before removing the inline
child block it replaced: `blocks doctor` reports the orphaned child, `--fix` removes it and its
secret, and the saved block is untouched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from core_blocks.secrets.selection import backend_named
from core_blocks.store import get_store
from core_blocks.testing import reset_state
from tests.helpers import BLOCKS

SAVES = '''
import os, signal, sys

from pydantic import SecretStr

import core_blocks.documents
from core_blocks import Block


class Login(Block):
    """The inline child."""

    user: str
    token: SecretStr


class Bucket(Block):
    """The parent, holding its child inline."""

    n: int
    login: Login


def killed_here(*args):
    os.kill(os.getpid(), signal.SIGKILL)


Bucket(n=1, login=Login(user="old", token=sys.argv[1])).save("raw")
# The second save commits, then dies where it would remove the replaced child.
core_blocks.documents._delete_if_orphaned_anonymous = killed_here
Bucket(n=2, login=Login(user="new", token="new-token")).save("raw", overwrite=True)
'''


def doctor(*flags: str) -> tuple[dict, str]:
    result = subprocess.run([BLOCKS, "doctor", "--json", *flags], capture_output=True,
                            text=True, timeout=120, env=dict(os.environ))
    report = json.loads(result.stdout)
    [finding] = [f for f in report["findings"] if f["name"] == "orphaned blocks"]
    return finding, result.stdout + result.stderr


def logins():
    return [r for r in get_store().list_documents("login", include_anonymous=True)]


def test_doctor_removes_the_child_a_killed_save_orphaned(block_home, tmp_path, canary):
    script = tmp_path / "saves.py"
    script.write_text(SAVES)

    save = subprocess.run([sys.executable, str(script), canary], capture_output=True,
                          text=True, timeout=120)

    assert save.returncode == -signal.SIGKILL, save.stderr
    reset_state()
    old, new = sorted(logins(), key=lambda r: json.loads(r.data)["user"] != "old")
    assert get_store().referrers(old.id) == [] and get_store().referrers(new.id)
    backend = backend_named(old.secret_backend)
    assert backend.read(old.secret_key, old.ref) == {"token": canary}

    found, output = doctor()
    assert not found["ok"] and old.ref in found["detail"] and "blocks doctor --fix" in found[
        "detail"]
    assert canary not in output

    fixed, output = doctor("--fix")
    assert fixed == {"area": "documents", "name": "orphaned blocks", "ok": True,
                     "detail": "removed 1"}
    assert canary not in output
    reset_state()
    assert [r.id for r in logins()] == [new.id]
    assert backend_named(old.secret_backend).read(old.secret_key, old.ref) is None
    assert get_store().journal() == []
    again, _ = doctor()
    assert again["ok"] and again["detail"] == "none"
