"""End to end against moto's HTTP server: blocks made with the `blocks` CLI, used in flows.

Every block here is created by the real console script in a subprocess, as a user would, and
loaded in this process; the only link between the two is the store and the secret backend.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from core_blocks import flow
from core_blocks.errors import StoragePathError
from core_blocks.testing import reset_state
from prefect_aws import AwsCredentials, AwsSecret, AwsSecretNotFound, S3Bucket
from tests.helpers import BLOCKS

MiB = 2**20


def blocks(*args: str, stdin: str | None = None) -> str:
    """Run the CLI; fail the test with its stderr when it fails."""
    done = subprocess.run([BLOCKS, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, f"blocks {' '.join(args)}: {done.stderr}"
    return done.stdout


def create_credentials(moto_server: str, secret: str, name: str = "x") -> None:
    blocks("create", "aws-client-parameters/moto", "--overwrite",
           "--set", f"endpoint_url={moto_server}",
           "--set", 'config={"retries": {"total_max_attempts": 2}}')
    # The secret key goes through stdin: arguments are visible in the process list.
    blocks("create", f"aws-credentials/{name}", "--from-json", "-",
           "--set", "aws_client_parameters=aws-client-parameters/moto",
           stdin=json.dumps({"aws_access_key_id": "testing", "aws_secret_access_key": secret,
                             "region_name": "us-east-1"}))


@pytest.fixture
def raw_bucket(moto_server, canary):
    """s3-bucket/raw, made with the CLI, on a bucket of the moto server."""
    create_credentials(moto_server, canary)
    AwsCredentials.load("x").get_s3_client().create_bucket(Bucket="raw-data")
    blocks("create", "s3-bucket/raw", "--set", "bucket_name=raw-data",
           "--set", "credentials=aws-credentials/x", "--set", "bucket_folder=landing",
           "--set", f"multipart_threshold={5 * MiB}", "--set", f"multipart_chunksize={5 * MiB}")
    return "raw"


def test_cli_blocks_drive_s3_in_a_flow(raw_bucket, tmp_path, canary, block_home):
    big = tmp_path / "export.bin"
    big.write_bytes(os.urandom(12 * MiB))
    folder = tmp_path / "daily"
    (folder / "parts").mkdir(parents=True)
    for i in range(5):
        (folder / "parts" / f"{i}.csv").write_text(f"id\n{i}\n")
    (folder / "manifest.json").write_text('{"parts": 5}')

    @flow
    def nightly() -> dict:
        bucket = S3Bucket.load(raw_bucket)
        bucket.upload_from_path(big, "2026/export.bin")
        client = bucket.credentials.get_s3_client()
        head = client.head_object(Bucket="raw-data", Key="landing/2026/export.bin")
        bucket.download_object_to_path("2026/export.bin", tmp_path / "back" / "export.bin")
        bucket.upload_from_folder(folder, "2026/daily")
        out = bucket.download_folder_to_path("2026/daily", tmp_path / "restored")
        return {"etag": head["ETag"], "listing": bucket.list_objects("2026/daily"),
                "restored": sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*"))}

    result = nightly()

    assert result["etag"].strip('"').endswith("-3")  # 12 MiB in 5 MiB parts
    assert (tmp_path / "back" / "export.bin").read_bytes() == big.read_bytes()
    assert result["listing"] == ["2026/daily/manifest.json"] + [
        f"2026/daily/parts/{i}.csv" for i in range(5)]
    assert result["restored"] == ["manifest.json"] + [f"parts/{i}.csv" for i in range(5)]
    inspected = blocks("inspect", "aws-credentials/x", "--json")
    assert canary not in inspected and "********" in inspected
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()


def test_escaping_keys_are_refused(raw_bucket, tmp_path):
    bucket = S3Bucket.load(raw_bucket)
    bucket.write_path("reports/ok.csv", b"ok")
    bucket.credentials.get_s3_client().put_object(
        Bucket="raw-data", Key="landing/reports/../../outside.csv", Body=b"evil")
    target = tmp_path / "a" / "b"
    landing = tmp_path / "outside.csv"  # a/b + ../../outside.csv
    assert (target / "../../outside.csv").resolve() == landing

    with pytest.raises(StoragePathError, match="escape"):
        bucket.write_path("../outside.csv", b"x")
    listed = bucket.credentials.get_s3_client().list_objects_v2(Bucket="raw-data")["Contents"]
    assert "outside.csv" not in [o["Key"] for o in listed]  # where it would have landed
    with pytest.raises(StoragePathError,
                       match=r"'landing/reports/\.\./\.\./outside\.csv': it would escape the "
                             "target folder"):
        bucket.download_folder_to_path("reports", target)
    assert not landing.exists() and not target.exists()
    assert not list(tmp_path.rglob("*.csv"))


def test_cli_secret_block_reads_writes_and_deletes(moto_server, canary):
    create_credentials(moto_server, "testing")
    blocks("create", "aws-secret/warehouse", "--set", "secret_name=warehouse/password",
           "--set", "aws_credentials=aws-credentials/x")

    @flow
    def rotate() -> str:
        secret = AwsSecret.load("warehouse")
        secret.write_secret("old")
        secret.write_secret(canary)
        value = secret.read_secret()
        secret.delete_secret(force_delete_without_recovery=True)
        return value

    assert rotate() == canary
    with pytest.raises(AwsSecretNotFound, match="'warehouse/password'"):
        AwsSecret.load("warehouse").read_secret()


@pytest.fixture
def secrets_in_aws(moto_server, monkeypatch):
    """CORE_BLOCKS_SECRET_BACKEND=aws-secrets-manager, aimed at the moto server."""
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "aws-secrets-manager")
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_REGION", "us-east-1")
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_PREFIX", "etl/")
    reset_state()
    yield moto_server
    reset_state()


def _stored_secrets(moto_server: str) -> dict[str, dict]:
    import boto3

    client = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=moto_server)
    return {s["Name"]: json.loads(client.get_secret_value(SecretId=s["Name"])["SecretString"])
            for s in client.list_secrets()["SecretList"]}


def test_block_secrets_kept_in_aws_secrets_manager(secrets_in_aws, canary, block_home):
    create_credentials(secrets_in_aws, canary, name="team")

    stored = _stored_secrets(secrets_in_aws)
    (name, values), = stored.items()
    assert name.startswith("etl/aws-credentials/team/")
    assert values == {"aws_secret_access_key": canary}
    assert canary.encode() not in (block_home / "blocks.db").read_bytes()
    doctor = blocks("doctor")
    assert "aws-secrets-manager" in doctor

    creds = AwsCredentials.load("team")
    assert creds.aws_secret_access_key.get_secret_value() == canary
    creds.get_s3_client().create_bucket(Bucket="team-bucket")  # the loaded keys work

    blocks("delete", "aws-credentials/team", "--yes")
    assert _stored_secrets(secrets_in_aws) == {}
