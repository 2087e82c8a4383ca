"""A run's stored error message, traceback and state messages are capped at 64 KiB each,
start and end kept with a note of what was cut, so one huge exception neither bloats the
store nor stalls `blocks runs show`."""

from __future__ import annotations

import os
import re
import subprocess
import time

from core_blocks import flow, get_run_context, task
from core_blocks.runtime import history
from core_blocks.runtime.redaction import REDACTED
from core_blocks.secret_values import MAX_TEXT, SecretValues, masked_capped
from core_blocks.store import get_store
from tests.helpers import BLOCKS

NOTE = re.compile(r"\n\[… ([\d,]+) characters cut …\]\n")


def cut_count(text: str) -> int:
    return int(NOTE.search(text).group(1).replace(",", ""))


def test_long_text_keeps_its_start_and_end_and_says_how_much_was_cut():
    text = "START" + "x" * 1_000_000 + "END"
    capped = masked_capped(text, SecretValues())
    assert capped.startswith("START") and capped.endswith("END")
    assert len(capped) - len(NOTE.search(capped).group(0)) == MAX_TEXT
    assert cut_count(capped) == len(text) - MAX_TEXT
    assert masked_capped("short", SecretValues()) == "short"


def test_a_cut_never_leaves_part_of_a_secret(canary):
    """A secret straddling either cut goes whole with the part cut; one in a kept end is
    masked there."""
    secrets = SecretValues()
    secrets.add([canary])
    half = MAX_TEXT // 2
    for head in (half - 5, half - len(canary) + 1):
        text = (f"pw={canary} " + "a" * (head - len(canary) - 4) + canary + "b" * 200_000
                + canary + "c" * (half - 7))
        capped = masked_capped(text, secrets)
        assert capped.startswith(f"pw={REDACTED} a") and capped.count(REDACTED) == 1
        assert not any(canary[i:i + 6] in capped for i in range(len(canary) - 5))
        kept = len(capped) - len(NOTE.search(capped).group(0)) - len(REDACTED) + len(canary)
        assert cut_count(capped) == len(text) - kept


def test_a_huge_exception_is_stored_capped_and_shown_fast(block_home):
    """A 5 MB exception message: error, traceback and state messages of the task and of the
    flow it fails are stored capped; `blocks runs show` prints the traceback once, capped,
    and the messages shortened in its tables."""
    message = "begin " + "x" * 5_000_000 + " end"
    ids = {}

    @task(retries=1)
    def explode() -> None:
        ids["task"] = get_run_context().run.id
        raise RuntimeError(message)

    @flow
    def nightly() -> None:
        ids["flow"] = get_run_context().run.id
        explode()

    state = nightly(return_state=True)
    assert state.is_failed() and len(state.message) < MAX_TEXT + 100
    history.flush()
    stored = sum(p.stat().st_size for p in block_home.glob("blocks.db*"))
    assert stored < 3_000_000, stored  # 2 runs × (message + traceback) + 4 state messages
    for run_id in (ids["task"], ids["flow"]):
        run = history.get_run(get_store(), run_id)
        for text in [run["error_message"], run["traceback"],
                     *(s["message"] for s in run["states"] if s["message"])]:
            assert len(text) <= MAX_TEXT + 100 and cut_count(text) > 4_900_000
        assert run["error_message"].startswith("begin x") and run["error_message"].endswith(
            "x end")
        assert run["traceback"].startswith("Traceback") and run["traceback"].rstrip().endswith(
            "x end")
        started = time.perf_counter()
        shown = subprocess.run([BLOCKS, "runs", "show", run_id], capture_output=True,
                               text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
        elapsed = time.perf_counter() - started
        assert shown.returncode == 0, shown.stderr
        assert "characters cut" in shown.stdout and len(shown.stdout) < 2 * MAX_TEXT
        assert elapsed < 10, elapsed
