"""Run parameters of common types are recorded as a person writes them (a path, a time, an
id), so `blocks runs show` and the page show `/srv/export.csv`, not `PosixPath('…')`; values
under secret-looking names stay hidden whatever their type."""

from __future__ import annotations

import enum
import json
import os
import subprocess
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path, PurePosixPath

from core_blocks import flow
from core_blocks.runtime import history
from core_blocks.runtime.context import get_run_context
from core_blocks.runtime.redaction import REDACTED
from core_blocks.store import get_store
from tests.helpers import BLOCKS


class Colour(enum.Enum):
    RED = 1


RUN_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@flow
def export(path: Path, when: datetime, day: date, batch: uuid.UUID, amount: Decimal,
           every: timedelta, colour: Colour, payload: bytes, files: dict,
           private_key_path: Path):
    return get_run_context().run.id


def run_export(canary: str) -> str:
    return export(Path("/srv/export.csv"), datetime(2026, 11, 24, 3, 0, tzinfo=timezone.utc),
                  date(2026, 11, 24), RUN_ID, Decimal("12.50"), timedelta(hours=1),
                  Colour.RED, b"abc", {"inputs": [PurePosixPath("/in/a.csv"), Path("/in/b")]},
                  Path(f"/keys/{canary}"))


EXPECTED = {
    "path": "/srv/export.csv", "when": "2026-11-24T03:00:00+00:00", "day": "2026-11-24",
    "batch": str(RUN_ID), "amount": "12.50", "every": "3600 s", "colour": "Colour.RED",
    "payload": "<3 bytes>", "files": {"inputs": ["/in/a.csv", "/in/b"]},
    "private_key_path": REDACTED,  # a secret-looking name: hidden whatever the type
}


def test_parameters_are_recorded_as_plain_text(canary):
    run_id = run_export(canary)
    history.flush()

    assert history.get_run(get_store(), run_id)["parameters"] == EXPECTED


def test_runs_show_and_the_page_show_the_text_never_a_repr(canary):
    from core_blocks.ui.api import get_run  # what the page's /api/runs/ID answers

    run_id = run_export(canary)
    history.flush()
    env = {**os.environ, "COLUMNS": "250"}
    shown = subprocess.run([BLOCKS, "runs", "show", run_id], capture_output=True, text=True,
                           timeout=60, env=env)
    as_json = subprocess.run([BLOCKS, "runs", "show", run_id, "--json"], capture_output=True,
                             text=True, timeout=60, env=env)

    assert shown.returncode == 0, shown.stderr
    assert "/srv/export.csv" in shown.stdout and "2026-11-24T03:00:00+00:00" in shown.stdout
    for text in (shown.stdout, as_json.stdout, json.dumps(get_run(run_id))):
        assert "PosixPath" not in text and "datetime.datetime" not in text
        assert "UUID(" not in text and "Decimal(" not in text
        assert canary not in text
    assert json.loads(as_json.stdout)["parameters"] == EXPECTED
    assert get_run(run_id)["parameters"] == EXPECTED
