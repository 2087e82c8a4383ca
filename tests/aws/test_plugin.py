"""The `aws` entry point: what it registers, and that discovery never imports boto3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core_blocks import Block
from core_blocks.registry import get_registry

BLOCKS = str(Path(sys.executable).with_name("blocks"))
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
    assert registry.plugins["aws"].source.startswith("prefect-aws ")
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
