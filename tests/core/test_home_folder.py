"""A CORE_BLOCKS_HOME this user may not use is one error line naming it, never a traceback.

Tests run as root here, which reads everything: the `blocks` CLI runs in a child that loads its
modules as root, then drops to `nobody` (whose account cannot read this Python's install) and
faces a root-owned 0700 home.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

AS_NOBODY = textwrap.dedent("""
    import importlib, os, pwd, sys
    # Everything the commands import lazily, loaded while still root.
    for name in ("core_blocks.cli.app", "core_blocks.cli.output", "core_blocks.store",
                 "core_blocks.diagnostics", "core_blocks.registry", "core_blocks.documents",
                 "core_blocks.secrets.selection", "core_blocks.secrets.file_backend",
                 "core_blocks.cli.block_commands", "core_blocks.cli.type_commands",
                 "core_blocks.cli.create_input", "core_blocks.plugin_permissions",
                 "cryptography.fernet", "email.parser", "email.feedparser", "sqlite3", "pwd",
                 "importlib.metadata", "rich.console", "rich.table"):
        importlib.import_module(name)
    from core_blocks.cli.app import main
    nobody = pwd.getpwnam("nobody")
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="dropping to another user needs root")
@pytest.mark.parametrize("argv", [["ls"], ["doctor"], ["create", "secret/x", "--set", "value=v"],
                                  ["types"]], ids=["ls", "doctor", "create", "types"])
def test_a_home_this_user_cannot_read_is_one_line(block_home, argv):
    block_home.chmod(0o700)  # owned by root: nobody may not enter it
    env = {**os.environ, "CORE_BLOCKS_HOME": str(block_home)}
    env.pop("CORE_BLOCKS_PLUGINS_DIRS")  # the default, $CORE_BLOCKS_HOME/plugins, unreadable too
    result = subprocess.run([sys.executable, "-c", AS_NOBODY, *argv], capture_output=True,
                            text=True, timeout=120, env=env, cwd="/")

    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"Error: Cannot use the core-blocks folder {block_home}: this user may not read and "
        "write it. Give this user access to it (chown/chmod u+rwx) or set CORE_BLOCKS_HOME to a "
        "folder this user owns."]
    assert result.stdout == ""
