"""`blocks doctor` and a home other users can read: reported, and made private by --fix."""

from __future__ import annotations

import os

from core_blocks import Secret
from core_blocks.diagnostics import run_checks


def home_finding(report):
    [finding] = [f for f in report.findings if f.area == "home"]
    return finding


def test_a_home_others_can_read_is_reported_with_the_fix(block_home):
    Secret(value="x").save("db")
    os.chmod(block_home, 0o755)

    report = run_checks()

    finding = home_finding(report)
    assert not finding.ok and not report.ok
    assert "other users can read it (mode 0755)" in finding.detail
    assert f"chmod 700 {block_home}" in finding.detail
    assert block_home.stat().st_mode & 0o777 == 0o755  # reported only


def test_doctor_fix_makes_the_home_private(block_home):
    Secret(value="x").save("db")
    os.chmod(block_home, 0o750)

    report = run_checks(fix=True)

    assert block_home.stat().st_mode & 0o777 == 0o700
    assert home_finding(report).ok
    assert report.fixed == [f"made {block_home} private (mode 0750 -> 0700)"]
    assert home_finding(run_checks()).detail == "private (mode 0700)"


def test_a_private_home_is_fine(block_home):
    Secret(value="x").save("db")
    os.chmod(block_home, 0o700)

    assert home_finding(run_checks()).ok
