"""`blocks doctor` names the distribution behind each integration package, and a foreign one
(Prefect's `prefect-aws` gives `prefect_aws` too) is a problem with a one-line fix."""

from __future__ import annotations

import json
import os
import subprocess

from core_blocks import diagnostics
from core_blocks.diagnostics import run_checks
from tests.helpers import BLOCKS


def doctor(pythonpath: str | None = None) -> tuple[int, dict]:
    env = {**os.environ, "COLUMNS": "250"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    result = subprocess.run([BLOCKS, "doctor", "--json"], capture_output=True, text=True,
                            env=env, timeout=60)
    return result.returncode, json.loads(result.stdout)


def packages(report: dict) -> dict[str, dict]:
    return {f["name"]: f for f in report["findings"] if f["area"] == "packages"}


def test_each_integration_package_is_reported_with_its_distribution():
    code, report = doctor()

    found = packages(report)
    assert code == 0, report
    assert set(found) == {"prefect_aws", "prefect_dbt", "prefect_docker", "prefect_slack",
                          "prefect_dask"}
    for module, ours in diagnostics.INTEGRATION_DISTRIBUTIONS.items():
        assert found[module]["ok"] is True
        assert found[module]["detail"].startswith(f"{ours} 0.1.0 (")


def test_prefects_prefect_aws_beside_ours_is_a_problem_with_the_fix(foreign_site):
    site = foreign_site("prefect-aws", "prefect_aws")

    code, report = doctor(pythonpath=str(site))

    assert code == 1
    finding = packages(report)["prefect_aws"]
    assert finding["ok"] is False
    assert finding["detail"] == (
        "prefect_aws is provided by prefect-aws 9.1.0, not core-blocks-aws; one environment "
        "cannot hold both. Replace it: pip uninstall prefect-aws && "
        "pip install --force-reinstall --no-deps core-blocks-aws")
    assert packages(report)["prefect_dbt"]["ok"] is True  # only the clashing one is flagged
    # The foreign package shadows ours, so our plugin fails too: its remedy names our distribution.
    [plugin] = [f for f in report["findings"] if f["area"] == "plugins" and f["name"] == "aws"]
    assert plugin["detail"].endswith("Reinstall it: pip install core-blocks-aws")


def test_a_foreign_distribution_alone_is_replaced_by_ours(foreign_site, monkeypatch):
    """Where only the foreign distribution is installed, the fix is a plain install of ours."""
    site = foreign_site("Someone_Elses.Pkg", "someone_elses_pkg")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(diagnostics.INTEGRATION_DISTRIBUTIONS, "someone_elses_pkg",
                        "core-blocks-else")

    report = run_checks()

    [finding] = [f for f in report.findings if f.name == "someone_elses_pkg"]
    assert report.ok is False and finding.ok is False
    assert finding.detail.endswith(
        "Replace it: pip uninstall someone-elses-pkg && pip install core-blocks-else")


def test_a_package_on_the_path_without_a_distribution_is_named_by_its_folder(
        tmp_path, monkeypatch):
    (tmp_path / "loose_pkg").mkdir()
    (tmp_path / "loose_pkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(diagnostics.INTEGRATION_DISTRIBUTIONS, "loose_pkg", "core-blocks-loose")

    [finding] = [f for f in run_checks().findings if f.name == "loose_pkg"]

    assert finding.ok is True
    assert finding.detail == (f"{tmp_path / 'loose_pkg'}: on the path, not from an installed "
                              "distribution")


def test_finding_a_package_does_not_import_it(monkeypatch, tmp_path):
    (tmp_path / "tripwire_pkg").mkdir()
    (tmp_path / "tripwire_pkg" / "__init__.py").write_text("raise RuntimeError('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(diagnostics.INTEGRATION_DISTRIBUTIONS, "tripwire_pkg", "core-blocks-x")

    [finding] = [f for f in run_checks().findings if f.name == "tripwire_pkg"]

    assert finding.ok is True
