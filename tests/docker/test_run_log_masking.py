"""Container output streamed into the run log is masked like every run log record: a
container given a secret read from a block and printing it leaves no trace of it."""

from __future__ import annotations

import base64
import logging
import re

from core_blocks import Secret, flow
from core_blocks.runtime.redaction import REDACTED
from prefect_docker.containers import run_container


def test_container_log_lines_quoting_a_read_secret_are_masked(docker_host, busybox_image,
                                                              block_home, canary, caplog):
    Secret(value=canary).save("db-password")
    script = 'echo "connecting with $PW"; printf %s "etl:$PW" | base64; echo "$PW" >&2'

    @flow
    def migrate() -> tuple[int, str]:
        password = Secret.load("db-password").get()
        return run_container(busybox_image, ["sh", "-c", script], environment={"PW": password},
                             network_mode="none", docker_host=docker_host)

    with caplog.at_level(logging.INFO, logger="core_blocks.runs"):
        exit_code, logs = migrate()

    assert exit_code == 0 and canary in logs  # the task's own result is the container's output
    lines = [r.getMessage().split(" | ", 1)[1] for r in caplog.records
             if r.name == "core_blocks.runs" and r.getMessage().startswith("run_container-")]
    encoded = base64.b64encode(f"etl:{canary}".encode()).decode()
    # Inside a longer encoding, the characters that also carry "etl:" or padding stay.
    basic = next(line for line in lines if line.startswith(encoded[:4]))
    assert re.fullmatch(r"[A-Za-z0-9+/]{4,8}\*{10}[A-Za-z0-9+/]{0,2}=*", basic), basic
    assert sorted(lines) == sorted([f"connecting with {REDACTED}", basic, REDACTED])
    assert canary not in caplog.text and encoded[8:-4] not in caplog.text
