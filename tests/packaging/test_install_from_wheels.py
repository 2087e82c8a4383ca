"""The README's install commands, run in fresh virtual environments: an integration's wheel
with `--find-links dist` brings its core in one command, and a checkout installs with
`pip install ./ ./prefect_aws`. Their other dependencies come from the package index."""

from __future__ import annotations

import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.packaging.conftest import ROOT, pip

AWS_TYPES = {"aws-credentials", "aws-client-parameters", "minio-credentials", "s3-bucket",
             "aws-secret"}


def fresh_venv(folder: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(folder)
    return folder / "bin"


def install(bin_dir: Path, *args: str, cwd: Path | None = None) -> None:
    result = pip("install", "--quiet", *args, cwd=cwd, python=str(bin_dir / "python"))
    if result.returncode != 0:
        missing = re.findall(r"No matching distribution found for (\S+)", result.stderr)
        if not missing or any(name.startswith("core-blocks") for name in missing):
            pytest.fail(result.stdout + result.stderr)
        service_missing("the package index", f"pip could not fetch {', '.join(missing)}")


def block_types(bin_dir: Path, home: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORE_BLOCKS_")}
    env["CORE_BLOCKS_HOME"] = str(home)
    result = subprocess.run([str(bin_dir / "blocks"), "types", "--json"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(re.findall(r'"slug": "([a-z0-9-]+)"', result.stdout))


def imports_prefect_aws_from(bin_dir: Path) -> str:
    result = subprocess.run([str(bin_dir / "python"), "-c",
                             "import prefect_aws; print(prefect_aws.__file__)"],
                            capture_output=True, text=True, cwd="/", timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_one_command_installs_an_integration_and_its_core_from_built_wheels(
        wheels, tmp_path):
    dist = wheels["core-blocks-aws"].parent
    bin_dir = fresh_venv(tmp_path / "venv")

    install(bin_dir, "--find-links", str(dist), "core-blocks-aws")

    assert imports_prefect_aws_from(bin_dir).startswith(str(tmp_path / "venv"))
    assert AWS_TYPES | {"secret", "webhook"} <= block_types(bin_dir, tmp_path / "home")


def test_a_checkout_installs_the_core_and_an_integration_together(tmp_path):
    bin_dir = fresh_venv(tmp_path / "venv")

    install(bin_dir, "./", "./prefect_aws", cwd=ROOT)

    assert imports_prefect_aws_from(bin_dir).startswith(str(tmp_path / "venv"))
    assert AWS_TYPES <= block_types(bin_dir, tmp_path / "home")
