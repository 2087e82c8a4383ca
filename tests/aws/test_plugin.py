"""The `aws` entry point: what it registers, and that discovery never imports boto3."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core_blocks import Block
from core_blocks.registry import get_registry
from tests.helpers import BLOCKS

SLUGS = {"aws-client-parameters", "aws-credentials", "minio-credentials", "s3-bucket",
         "aws-secret"}


def _modules_after(code: str) -> set[str]:
    """The AWS SDK modules a fresh interpreter holds after running code."""
    probe = (f"import sys\n{code}\nprint('SDK:', *sorted(m for m in sys.modules "
             "if m.split('.')[0] in ('boto3', 'botocore', 's3transfer')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.splitlines()[-1].split()[1:])


def test_registers_its_block_types_and_secret_backend():
    registry = get_registry()

    assert SLUGS <= set(registry.block_types)
    assert {registry.block_types[slug][1] for slug in SLUGS} == {"aws"}
    assert registry.plugins["aws"].source.startswith("core-blocks-aws ")
    assert registry.secret_backend_class("aws-secrets-manager").name == "aws-secrets-manager"
    assert "aws" not in registry.errors


def test_block_classes_resolve_by_slug():
    from prefect_aws import AwsCredentials, MinIOCredentials, S3Bucket

    assert get_registry().block_type("minio-credentials") is MinIOCredentials
    assert get_registry().block_type("s3-bucket") is S3Bucket
    AwsCredentials(region_name="eu-west-1").save("prod")
    assert type(Block.load("aws-credentials/prod")) is AwsCredentials


@pytest.mark.parametrize("code", [
    "import core_blocks, prefect_aws",
    "from prefect_aws import AwsCredentials, MinIOCredentials, S3Bucket, AwsSecret",
    "import prefect_aws.plugin, prefect_aws.secret_backend, prefect_aws.tasks",
    "from core_blocks.registry import get_registry; get_registry()",
])
def test_imports_do_not_load_boto3(code):
    assert _modules_after(code) == set()


def test_block_types_do_not_load_asyncio():
    # The a* methods import it when first awaited: sync users never pay for it.
    probe = ("import sys\nfrom prefect_aws import S3Bucket, AwsSecret, AwsCredentials\n"
             "S3Bucket.aread_path, AwsSecret.aread_secret\nprint('asyncio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_blocks_types_lists_aws_types_without_importing_boto3():
    code = ("from core_blocks.cli.app import main\nsys.argv = ['blocks', 'types']\n"
            "assert main() == 0")
    assert _modules_after(code) == set()
    listing = subprocess.run([BLOCKS, "types"], capture_output=True, text=True, check=True)
    for slug in SLUGS:
        assert slug in listing.stdout


def test_blocks_help_does_not_import_boto3():
    code = ("from core_blocks.cli.app import main\nsys.argv = ['blocks', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass")
    assert _modules_after(code) == set()


def test_tasks_are_importable_from_the_s3_module():
    from prefect_aws import s3, tasks

    assert s3.s3_upload is tasks.s3_upload
    from prefect_aws.s3 import s3_delete, s3_download  # noqa: F401
    with pytest.raises(AttributeError, match="s3_nothing"):
        s3.s3_nothing  # noqa: B018


def test_public_names_are_exported_lazily():
    import prefect_aws

    assert sorted(prefect_aws.__all__) == sorted(prefect_aws._EXPORTS)
    for name in prefect_aws.__all__:
        assert getattr(prefect_aws, name).__name__ == name
    with pytest.raises(AttributeError, match="Nope"):
        prefect_aws.Nope  # noqa: B018


# Top-level modules prefect_aws imports, and the distribution that provides each.
_PROVIDED_BY = {"boto3": "boto3", "botocore": "boto3", "s3transfer": "boto3",
                "core_blocks": "core-blocks", "pydantic": "pydantic", "rich": "rich"}


def test_every_imported_distribution_is_declared():
    """A module imported by prefect_aws must come from a declared dependency, not from
    whatever the core happens to install."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    package = Path(__file__).parents[2] / "prefect_aws"
    imported = set()
    for source in (package / "prefect_aws").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"prefect_aws", "__future__"}
    declared = {re.split(r"[<>=!~ \[;]", requirement)[0].lower() for requirement in
                tomllib.loads((package / "pyproject.toml").read_text())["project"]["dependencies"]}

    assert third_party <= set(_PROVIDED_BY), third_party - set(_PROVIDED_BY)
    assert {_PROVIDED_BY[module] for module in third_party} <= declared
    assert "rich" in third_party  # the progress bar, imported by prefect_aws.transfers
