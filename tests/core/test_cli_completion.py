"""Shell completion: click's protocol through _BLOCKS_COMPLETE, the scripts printed by
`blocks completion SHELL`, and saved block references completed from the store."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from core_blocks import Secret, String
from tests.helpers import BLOCKS


def complete(*words: str) -> list[str]:
    """What bash would offer after `blocks WORDS...` (the last word is being typed)."""
    env = {**os.environ, "_BLOCKS_COMPLETE": "bash_complete",
           "COMP_WORDS": " ".join(["blocks", *words]), "COMP_CWORD": str(len(words))}
    result = subprocess.run([BLOCKS], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


def test_commands_and_options_complete():
    assert complete("ins") == ["inspect"]
    assert {"--set", "--from-json", "--overwrite", "--json"} <= set(complete("create", "--"))


def test_inspect_and_delete_complete_saved_block_references():
    Secret(value="s").save("prod-db")
    Secret(value="s").save("staging-db")
    String(value="eu").save("region")

    assert complete("inspect", "secret/") == ["secret/prod-db", "secret/staging-db"]
    assert complete("delete", "str") == ["string/region"]
    assert complete("inspect", "nothing") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_for_each_shell(shell):
    result = subprocess.run([BLOCKS, "completion", shell], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "_BLOCKS_COMPLETE" in result.stdout and f"{shell}_complete" in result.stdout


def test_the_bash_script_registers_completion_for_blocks():
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = f'eval "$({BLOCKS} completion bash)"; complete -p blocks'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(" blocks")
    assert "-F _blocks_completion" in result.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error():
    result = subprocess.run([BLOCKS, "completion", "tcsh"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "tcsh" in result.stderr
