"""Run logs mask every secret the process has read: `print` under log_prints, the run logger,
the runtime's own records and an exception's traceback, whichever handler stores or prints
them (the application's, or the stderr one a run adds when logging is not configured)."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import textwrap
from urllib.parse import quote_plus

from core_blocks import Secret, flow, get_run_logger, task
from core_blocks.runtime.redaction import REDACTED


def test_prints_and_the_run_logger_mask_a_read_secret(canary, block_home, caplog, tmp_path):
    caplog.set_level(logging.DEBUG, logger="core_blocks")
    stored = tmp_path / "runs.log"
    handler = logging.FileHandler(stored)
    handler.setFormatter(logging.Formatter("%(run_name)s %(message)s"))
    run_logger = logging.getLogger("core_blocks.runs")
    run_logger.addHandler(handler)
    Secret(value=canary).save("db-password")

    @task(log_prints=True)
    def connect() -> None:
        pw = Secret.load("db-password").get()
        print("connecting with", pw)
        get_run_logger().info("password %s", pw)
        get_run_logger().warning("url postgresql://etl:%s@db", quote_plus(pw + "/"))
        token = base64.b64encode(f"etl:{pw}".encode()).decode()
        try:
            raise ConnectionError(f"refused {pw} (Authorization: Basic {token})")
        except ConnectionError:
            get_run_logger().exception("login failed")
        try:
            raise KeyError("no such table")
        except KeyError:
            get_run_logger().exception("lookup failed")

    try:
        connect()
    finally:
        run_logger.removeHandler(handler)
        handler.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "core_blocks.runs"]
    assert any(m.endswith(f"| connecting with {REDACTED}") for m in messages)
    assert f"password {REDACTED}" in messages
    assert f"url postgresql://etl:{REDACTED}%2F@db" in messages
    assert f"refused {REDACTED} (Authorization: Basic " in caplog.text
    by_message = {r.getMessage(): r for r in caplog.records}
    # An exception that quoted the secret is kept as masked text only; another stays whole.
    assert by_message["login failed"].exc_info is None
    assert by_message["lookup failed"].exc_info[0] is KeyError
    for text in (caplog.text, stored.read_text()):
        assert canary not in text
        assert base64.b64encode(canary.encode()).decode()[:24] not in text
    assert "connect-" in stored.read_text()  # the run logger tags records with the run


SCRIPT = textwrap.dedent("""
    from core_blocks import Secret, flow, get_run_logger, task

    def hook(flow_, run, state):
        raise ValueError("hook saw " + Secret.load("db-password").get())

    @task(log_prints=True, retries=1)
    def connect():
        pw = Secret.load("db-password").get()
        print("connecting with", pw)
        get_run_logger().info("password %s", pw)
        raise ConnectionError("refused " + pw)

    @flow(on_failure=[hook])
    def nightly():
        connect()

    if __name__ == "__main__":
        nightly(return_state=True)
""")


def test_the_stderr_log_of_an_unconfigured_application_masks_a_read_secret(canary, block_home,
                                                                           tmp_path):
    """No logging configured: the run logger's own stderr handler prints masked records (the
    failed attempt, its retry, the final state, the hook's traceback)."""
    Secret(value=canary).save("db-password")
    script = tmp_path / "nightly.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert f"connecting with {REDACTED}" in done.stderr
    assert f"password {REDACTED}" in done.stderr
    assert f"ConnectionError: refused {REDACTED}" in done.stderr
    assert f"ValueError: hook saw {REDACTED}" in done.stderr
    assert canary not in done.stdout + done.stderr


def test_the_run_logger_outside_a_run_is_the_plain_run_logger(caplog):
    caplog.set_level(logging.INFO, logger="core_blocks.runs")
    get_run_logger().info("no run here")
    assert [r.getMessage() for r in caplog.records] == ["no run here"]
    assert not hasattr(caplog.records[0], "run_id")

    @flow
    def tagged() -> str:
        get_run_logger(stage="load").info("in a run")
        return "ok"

    tagged()
    record = next(r for r in caplog.records if r.getMessage() == "in a run")
    assert record.run_name.startswith("tagged-") and record.stage == "load"
